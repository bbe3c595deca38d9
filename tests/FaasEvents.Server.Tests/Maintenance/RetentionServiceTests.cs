using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Server.Tests.Maintenance;

/// <summary>Retention runs itself: the server deletes segments past each stream's limit on its schedule, nothing else.</summary>
public class RetentionServiceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task The_server_applies_each_streams_retention_on_its_schedule_and_keeps_offsets_and_unlimited_streams()
    {
        EventLogClient log = azurite.CreateClient();
        foreach ((string name, string retention) in new[] { ("metrics", "1KiB"), ("ledger", "infinite") })
        {
            await log.CreateStreamAsync(new StreamDefinition { Name = name, Partitions = 1, SegmentMaxBlocks = 2, Retention = RetentionPolicy.Parse(retention) });
            await using EventProducerClient producer = log.CreateProducer(name);
            for (int i = 0; i < 12; i++)
            {
                await producer.SendBatchAsync(Enumerable.Range(0, 5).Select(j => TestEvents.Json($"{name}-{i}-{j}")));
            }
        }

        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_RETENTION_INTERVAL=00:00:00.300");

        // 12 batches in segments of 2: the closed segments go (the size limit is far below one segment); the active one stays.
        await Eventually.UntilAsync(async () => (await log.GetPartitionAsync("metrics", 0)).Segments == 1, "the server applied 'metrics' retention"); // a pass deletes segment by segment
        PartitionInfo metrics = await log.GetPartitionAsync("metrics", 0);
        Assert.Equal(60, metrics.EndOffset); // offsets unchanged: the next append still gets 60
        Assert.Equal(1, metrics.Segments);
        Assert.Equal(0, (await log.GetPartitionAsync("ledger", 0)).EarliestOffset); // infinite retention: nothing deleted
        Assert.Equal(60, (await TestEvents.ReadAllAsync(log, "ledger")).Count);
    }
}
