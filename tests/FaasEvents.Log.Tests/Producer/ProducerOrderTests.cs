using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Log.Tests.Producer;

/// <summary>Call order is append order within a partition (invariant 11), awaited or not, single or batch, across failures.</summary>
public class ProducerOrderTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Sends_made_in_sequence_without_awaiting_land_in_call_order()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "seq", Partitions = 2 });

        // A fresh producer (its definition not loaded yet) and a small queue, so calls must wait for room.
        await using EventProducerClient producer = log.CreateProducer("seq", new EventProducerOptions { MaxPendingEventsPerPartition = 8 });
        var sent = new List<Task>();
        for (int i = 0; i < 600; i++)
        {
            sent.Add(i % 3 == 0
                ? producer.SendBatchAsync([TestEvents.Json($"{i}a", key: "k"), TestEvents.Json($"{i}b", key: "k")])
                : producer.SendAsync(TestEvents.Json($"{i}", key: "k")));
        }

        await Task.WhenAll(sent);
        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "seq");
        List<string> expected = [.. Enumerable.Range(0, 600).SelectMany(i => i % 3 == 0 ? new[] { $"{i}a", $"{i}b" } : [$"{i}"])];
        Assert.Equal(expected, read.Select(e => e.Event.Id)); // out of order: 0
    }

    [Fact]
    public async Task A_failed_batch_fails_the_later_pending_ones_of_its_partition_instead_of_being_overtaken()
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions(sdkRetries: 0) });
        await log.CreateStreamAsync(new StreamDefinition { Name = "fail" });
        await using EventProducerClient producer = log.CreateProducer("fail", new EventProducerOptions { Linger = TimeSpan.Zero, MaxAppendAttempts = 3, MaxBatchBytes = 4096 });
        await producer.SendAsync(TestEvents.Json("first"));

        // Events of 3 KB, so that with 4 KiB batches each send is a batch of its own.
        faults.Once(StorageOperation.AppendBlock, FaultKind.Refuse503, times: 3); // every attempt of the next batch
        Task<EventPosition> a = producer.SendAsync(TestEvents.Json("a", padTo: 3000));
        Task<EventPosition> b = producer.SendAsync(TestEvents.Json("b", padTo: 3000));
        Task<IReadOnlyList<EventPosition>> c = producer.SendBatchAsync([TestEvents.Json("c1", padTo: 3000), TestEvents.Json("c2", padTo: 3000)]);

        await Assert.ThrowsAsync<EventLogException>(() => a);
        EventLogException eb = await Assert.ThrowsAsync<EventLogException>(() => b);
        await Assert.ThrowsAsync<EventLogException>(() => c);
        Assert.Contains("earlier", eb.Message, StringComparison.Ordinal);

        await producer.SendAsync(TestEvents.Json("after")); // a send made after the failure was reported goes through
        Assert.Equal(["first", "after"], (await TestEvents.ReadAllAsync(log, "fail")).Select(e => e.Event.Id));
    }

    [Fact]
    public async Task A_call_larger_than_a_batch_is_appended_over_several_blocks_in_call_order_with_every_position_reported()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "split", Partitions = 2 });
        await using EventProducerClient producer = log.CreateProducer("split", new EventProducerOptions { MaxBatchBytes = 4096, MaxPendingEventsPerPartition = 4 });

        // 3 KB events in 4 KiB batches: every event of the 12-event call is an append of its own, and the call is larger
        // than the partition's pending limit, so it waits for the earlier ones, then goes in alone.
        Task<EventPosition> before = producer.SendAsync(TestEvents.Json("before", padTo: 3000), 0);
        Task<IReadOnlyList<EventPosition>> call = producer.SendBatchAsync([.. Enumerable.Range(0, 12).Select(i => TestEvents.Json($"c{i}", padTo: 3000))], 0);
        Task<IReadOnlyList<EventPosition>> keyed = producer.SendBatchAsync([.. Enumerable.Range(0, 8).Select(i => TestEvents.Json($"k{i}", key: $"key-{i % 2}", padTo: 3000))]);
        Task<EventPosition> after = producer.SendAsync(TestEvents.Json("after", padTo: 3000), 0);

        Assert.Equal(new EventPosition(0, 0), await before);
        Assert.Equal(Enumerable.Range(1, 12).Select(o => new EventPosition(0, o)), await call);
        IReadOnlyList<EventPosition> keyedAt = await keyed;
        EventPosition afterAt = await after;

        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "split");
        Dictionary<string, EventPosition> stored = read.ToDictionary(e => e.Event.Id, e => new EventPosition(e.Partition, e.Offset));
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(stored[$"k{i}"], keyedAt[i]); // each keyed event's reported position is where it is
        }

        Assert.Equal(stored["after"], afterAt);
        foreach (int p in new[] { 0, 1 })
        {
            List<string> ids = [.. read.Where(e => e.Partition == p).Select(e => e.Event.Id)];
            List<string> expected = [.. (p == 0 ? new[] { "before" }.Concat(Enumerable.Range(0, 12).Select(i => $"c{i}")) : []).Concat(Enumerable.Range(0, 8).Where(i => stored[$"k{i}"].Partition == p).Select(i => $"k{i}")).Concat(p == 0 ? ["after"] : [])];
            Assert.Equal(expected, ids); // call order within each partition: nothing reordered
        }
    }

    [Fact]
    public async Task A_call_split_over_appends_that_fails_in_the_middle_reports_what_landed_and_writes_nothing_after_the_failure()
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions(sdkRetries: 0) });
        await log.CreateStreamAsync(new StreamDefinition { Name = "half" });
        await using EventProducerClient producer = log.CreateProducer("half", new EventProducerOptions { Linger = TimeSpan.Zero, MaxAppendAttempts = 3, MaxBatchBytes = 4096 });
        await producer.SendAsync(TestEvents.Json("first"));

        // Six 3 KB events, one append each; the third append fails every attempt.
        int appends = 0;
        faults.Once(StorageOperation.AppendBlock, FaultKind.Refuse503, where: _ => Interlocked.Increment(ref appends) > 2, times: 3);
        IReadOnlyList<EventSendResult> results = await producer.SendEachAsync([.. Enumerable.Range(0, 6).Select(i => TestEvents.Json($"e{i}", padTo: 3000))]);

        Assert.Equal([new EventPosition(0, 1), new EventPosition(0, 2)], results.Take(2).Select(r => r.Position!.Value));
        Assert.All(results.Skip(2), r => Assert.False(r.Written));
        Assert.Contains("earlier", results[3].Error!.Message, StringComparison.Ordinal); // failed rather than overtaking e2
        Assert.Equal(["first", "e0", "e1"], (await TestEvents.ReadAllAsync(log, "half")).Select(e => e.Event.Id)); // lost: none acknowledged; after the failure: nothing
    }

    [Fact]
    public async Task An_empty_call_completes_at_once_and_writes_nothing()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "none" });
        await using EventProducerClient producer = log.CreateProducer("none");
        Assert.Empty(await producer.SendBatchAsync([]));
        Assert.Empty(await producer.SendEachAsync([]));
        Assert.Empty(await TestEvents.ReadAllAsync(log, "none"));
    }
}
