using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Producer;

public class ProduceReadTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Keyed_events_keep_per_key_order_on_their_hash_partition()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "keyed", Partitions = 4 });
        await using EventProducerClient producer = log.CreateProducer("keyed");
        var sent = Enumerable.Range(0, 400).Select(i => TestEvents.Json($"e{i}", key: $"k{i % 10}")).ToList();

        IReadOnlyList<EventPosition> positions = await producer.SendBatchAsync(sent, TestEvents.Timeout());

        for (int i = 0; i < sent.Count; i++)
        {
            Assert.Equal(KeyPartitioner.GetPartition(sent[i].PartitionKey!, 4), positions[i].Partition);
        }

        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "keyed");
        Assert.Equal(400, read.Count);
        foreach (IGrouping<string?, StoredEvent> byKey in read.GroupBy(e => e.Event.PartitionKey))
        {
            List<int> ids = byKey.Select(e => int.Parse(e.Event.Id[1..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(ids.Order(), ids); // per-key order kept
        }

        foreach (IGrouping<int, StoredEvent> byPartition in read.GroupBy(e => e.Partition))
        {
            Assert.Equal(Enumerable.Range(0, byPartition.Count()).Select(i => (long)i), byPartition.Select(e => e.Offset));
        }
    }

    [Fact]
    public async Task Many_small_events_become_few_append_blocks()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "small" });
        await using EventProducerClient producer = log.CreateProducer("small", new EventProducerOptions { Linger = TimeSpan.FromMilliseconds(20) });

        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => producer.SendAsync(TestEvents.Json($"e{i}"))));

        BlobProperties props = (await log.Container.GetBlobClient("streams/small/00000/00000000000000000000").GetPropertiesAsync()).Value;
        Assert.InRange(props.BlobCommittedBlockCount, 1, 20); // 2,000 events, a handful of Append Blocks
        Assert.Equal(2000, (await TestEvents.ReadAllAsync(log, "small")).Count);
    }

    [Fact]
    public async Task Unkeyed_events_spread_across_partitions()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "spread", Partitions = 4 });
        await using EventProducerClient producer = log.CreateProducer("spread", new EventProducerOptions { MaxBatchBytes = 4096, Linger = TimeSpan.Zero });

        IReadOnlyList<EventPosition> positions = await producer.SendBatchAsync(Enumerable.Range(0, 400).Select(i => TestEvents.Json($"e{i}", padTo: 100)));

        Assert.Equal(4, positions.Select(p => p.Partition).Distinct().Count());
    }

    [Fact]
    public async Task Reads_from_offset_latest_and_time_and_follows()
    {
        EventLogClient log = azurite.CreateClient();
        CancellationToken ct = TestEvents.Timeout();
        await log.CreateStreamAsync(new StreamDefinition { Name = "pos" }, ct);
        await using EventProducerClient producer = log.CreateProducer("pos");
        await producer.SendBatchAsync(Enumerable.Range(0, 100).Select(i => TestEvents.Json($"a{i}")), ct);
        await Task.Delay(1100, ct); // Last-Modified has one-second resolution
        DateTimeOffset between = DateTimeOffset.UtcNow;
        await Task.Delay(50, ct);
        await producer.SendBatchAsync(Enumerable.Range(0, 10).Select(i => TestEvents.Json($"b{i}")), ct);

        List<long> fromOffset = await log.ReadPartitionAsync("pos", 0, new ReadOptions { From = StartPosition.FromOffset(95) }, ct).Select(e => e.Offset).ToListAsync(ct);
        Assert.Equal(Enumerable.Range(95, 15).Select(i => (long)i), fromOffset);

        List<string> fromTime = await log.ReadPartitionAsync("pos", 0, new ReadOptions { From = StartPosition.FromTime(between) }, ct).Select(e => e.Event.Id).ToListAsync(ct);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"b{i}"), fromTime);

        Assert.Empty(await log.ReadPartitionAsync("pos", 0, new ReadOptions { From = StartPosition.Latest }, ct).ToListAsync(ct));

        // A following reader from latest sees events appended after it started.
        using var followCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var seen = new List<string>();
        Task follow = Task.Run(async () =>
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync("pos", 0, new ReadOptions { From = StartPosition.FromOffset(110), Follow = true, PollInterval = TimeSpan.FromMilliseconds(50) }, followCts.Token))
            {
                seen.Add(e.Event.Id);
                if (seen.Count == 3)
                {
                    return;
                }
            }
        }, ct);
        await Task.Delay(300, ct);
        await producer.SendBatchAsync([TestEvents.Json("c0"), TestEvents.Json("c1"), TestEvents.Json("c2")], ct);
        await follow.WaitAsync(TimeSpan.FromSeconds(20), ct);
        Assert.Equal(["c0", "c1", "c2"], seen);

        EventLogException beyond = await Assert.ThrowsAsync<EventLogException>(async () => await log.ReadPartitionAsync("pos", 0, new ReadOptions { From = StartPosition.FromOffset(1000) }, ct).ToListAsync(ct));
        Assert.Equal(EventLogErrorReason.OffsetOutOfRange, beyond.Reason);
    }

    [Fact]
    public async Task Partition_end_offsets_and_lag_per_group()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "lag", Partitions = 3 });
        await using EventProducerClient producer = log.CreateProducer("lag");
        for (int p = 0; p < 3; p++)
        {
            for (int i = 0; i < (p + 1) * 5; i++)
            {
                await producer.SendAsync(TestEvents.Json($"p{p}-{i}"), p);
            }
        }

        await log.Checkpoints.UpdateAsync("billing", "lag", 1, 4);
        IReadOnlyList<PartitionInfo> parts = await log.GetPartitionsAsync("lag");
        Assert.Equal([5L, 10L, 15L], parts.Select(p => p.EndOffset));

        LagReport lag = await log.GetLagAsync("lag", "billing");
        Assert.Equal([5L, 6L, 15L], lag.Partitions.Select(p => p.Lag));
        Assert.Equal(26, lag.TotalLag);
        LagReport latest = await log.GetLagAsync("lag", "billing", InitialOffset.Latest);
        Assert.Equal([0L, 6L, 0L], latest.Partitions.Select(p => p.Lag));
    }
}
