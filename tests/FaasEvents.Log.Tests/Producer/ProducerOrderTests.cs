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
}
