using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Server.Tests.Compaction;

public class CompactionServiceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task The_server_compacts_entity_streams_on_its_schedule_and_leaves_event_streams_alone()
    {
        EventLogClient log = azurite.CreateClient();
        foreach ((string name, StreamKind kind) in new[] { ("catalog", StreamKind.Entities), ("clicks", StreamKind.Events) })
        {
            await log.CreateStreamAsync(new StreamDefinition { Name = name, Partitions = 1, Kind = kind, SegmentMaxBlocks = 2 });
            await using EventProducerClient producer = log.CreateProducer(name);
            for (int i = 0; i < 12; i++)
            {
                await producer.SendBatchAsync(Enumerable.Range(0, 5).Select(j => new LogEvent($"{name}-{i}-{j}", "/t", "upserted") { PartitionKey = $"k{j}", Data = BinaryData.FromString($"{i}") }));
            }
        }

        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_COMPACTION_INTERVAL=00:00:00.300");
        async Task<int> CountAsync(string stream)
        {
            int n = 0;
            await foreach (StoredEvent _ in log.ReadPartitionAsync(stream, 0))
            {
                n++;
            }

            return n;
        }

        // 60 events over 5 keys: closed segments end up with one event per key; the active segment (2 batches) keeps its 10.
        await Eventually.UntilAsync(async () => await CountAsync("catalog") <= 15, "the server compacted 'catalog'");
        Assert.Equal(60, await CountAsync("clicks")); // an events stream is never compacted
        Assert.Equal(60, (await log.GetPartitionAsync("catalog", 0)).EndOffset); // offsets unchanged
    }
}
