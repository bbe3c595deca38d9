using System.Collections.Concurrent;
using FaasEvents.Log.Queues;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using FaasEvents.Log.Storage;
using Microsoft.Extensions.Time.Testing;

namespace FaasEvents.Log.Tests.Queues;

/// <summary>
/// A partition consumed as a queue without a coordinator: instances acquire disjoint events under locks, settle them
/// (the settled offset moves over contiguous settlements), an expired lock makes its event available again (and its
/// holder's late settlement is not applied), a released event returns after its backoff, and racing instances never
/// acquire the same event at once.
/// </summary>
public class PartitionQueueTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Lock = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Locks_settlements_expiry_and_backoff()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { TimeProvider = clock });
        await log.CreateStreamAsync(new StreamDefinition { Name = "jobs", Partitions = 2 });
        PartitionQueue queue = await log.OpenQueueAsync("jobs-workers", "jobs", 0);

        IReadOnlyList<QueueDelivery> a = await queue.AcquireAsync("a", 3, Lock, endOffset: 10);
        IReadOnlyList<QueueDelivery> b = await queue.AcquireAsync("b", 3, Lock, endOffset: 10);
        Assert.Equal([0L, 1, 2], a.Select(d => d.Offset));
        Assert.Equal([3L, 4, 5], b.Select(d => d.Offset));
        Assert.All(a.Concat(b), d => Assert.Equal(1, d.Deliveries));

        Assert.Empty(await queue.SettleAsync("a", [new(0, QueueOutcome.Accepted), new(1, QueueOutcome.Rejected)]));
        Assert.Empty(await queue.SettleAsync("b", [new(3, QueueOutcome.Accepted), new(4, QueueOutcome.Released, TimeSpan.FromSeconds(10))]));
        QueueState state = await queue.GetStateAsync();
        Assert.Equal(2, state.SettledBelow);
        Assert.Equal([3L], state.SettledAbove);

        // a's lock on 2 expires: 2 goes to b with a second delivery; 4 is still in its backoff.
        clock.Advance(Lock + TimeSpan.FromSeconds(1));
        IReadOnlyList<QueueDelivery> again = await queue.AcquireAsync("b", 2, Lock, endOffset: 10);
        Assert.Equal([(2L, 2), (4L, 2)], again.Select(d => (d.Offset, d.Deliveries))); // 31 s later the 10 s backoff is over too
        Assert.Equal([2L], await queue.SettleAsync("a", [new(2, QueueOutcome.Accepted)])); // too late: not applied
        Assert.Empty(await queue.SettleAsync("b", [new(2, QueueOutcome.Accepted)]));
        Assert.Equal(4, (await queue.GetStateAsync()).SettledBelow); // 0..3 settled

        PartitionQueue released = await log.OpenQueueAsync("jobs-workers", "jobs", 1);
        QueueDelivery first = Assert.Single(await released.AcquireAsync("c", 1, Lock, endOffset: 1));
        await released.SettleAsync("c", [new(first.Offset, QueueOutcome.Released, TimeSpan.FromSeconds(10))]);
        Assert.Empty(await released.AcquireAsync("c", 1, Lock, endOffset: 1)); // in its backoff
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2, Assert.Single(await released.AcquireAsync("c", 1, Lock, endOffset: 1)).Deliveries);
    }

    [Fact]
    public async Task Racing_instances_acquire_each_event_once_and_settle_them_all()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "jobs" });
        PartitionQueue queue = await log.OpenQueueAsync("race", "jobs", 0);
        var seen = new ConcurrentDictionary<long, string>();
        var overlaps = new ConcurrentBag<long>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            string owner = $"w{i}";
            while (true)
            {
                IReadOnlyList<QueueDelivery> got = await queue.AcquireAsync(owner, 5, Lock, endOffset: 100);
                if (got.Count == 0)
                {
                    return;
                }

                foreach (QueueDelivery d in got.Where(d => !seen.TryAdd(d.Offset, owner)))
                {
                    overlaps.Add(d.Offset);
                }

                Assert.Empty(await queue.SettleAsync(owner, [.. got.Select(d => new QueueSettlement(d.Offset, QueueOutcome.Accepted))]));
            }
        })));

        Assert.Empty(overlaps);
        Assert.Equal(100, seen.Count);
        Assert.True(seen.Values.Distinct().Count() > 1, "the work was shared");
        QueueState state = await queue.GetStateAsync();
        Assert.Equal((100L, 0, 0), (state.SettledBelow, state.InFlight.Count, state.SettledAbove.Count));
    }

    [Fact]
    public async Task A_stream_created_again_starts_a_new_queue()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "jobs" });
        PartitionQueue queue = await log.OpenQueueAsync("g", "jobs", 0);
        IReadOnlyList<QueueDelivery> got = await queue.AcquireAsync("a", 5, Lock, endOffset: 5);
        await queue.SettleAsync("a", [.. got.Select(d => new QueueSettlement(d.Offset, QueueOutcome.Accepted))]);
        Assert.Equal(5, (await queue.GetStateAsync()).SettledBelow);

        await log.DeleteStreamAsync("jobs");
        Assert.Empty(await log.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "queues/jobs/", CancellationToken.None).ToListAsync()); // deleted with the stream
        await log.CreateStreamAsync(new StreamDefinition { Name = "jobs" });
        PartitionQueue fresh = await log.OpenQueueAsync("g", "jobs", 0);
        Assert.Equal(0, (await fresh.GetStateAsync()).SettledBelow); // offsets 0.. of the new stream are new events
        Assert.Equal(EventLogErrorReason.InvalidArgument, (await Assert.ThrowsAsync<EventLogException>(() => log.OpenQueueAsync("g", "jobs", 7))).Reason);
    }

    [Fact]
    public async Task A_queue_opened_before_its_stream_was_deleted_and_created_again_refuses_instead_of_writing_a_queue_for_the_old_stream()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "life" });
        PartitionQueue used = await log.OpenQueueAsync("g", "life", 0);
        PartitionQueue unused = await log.OpenQueueAsync("h", "life", 0); // opened, never written
        IReadOnlyList<QueueDelivery> got = await used.AcquireAsync("a", 3, Lock, endOffset: 3);
        await used.SettleAsync("a", [.. got.Select(d => new QueueSettlement(d.Offset, QueueOutcome.Accepted))]);

        await log.DeleteStreamAsync("life");
        await log.CreateStreamAsync(new StreamDefinition { Name = "life" }); // under running instances that hold these queues

        // Written on, either would make a queue under the old stream's path: a running instance would go on settling there,
        // unseen by the scaler and the admin commands, and an instance started later would deliver everything again.
        EventLogException gone = await Assert.ThrowsAsync<EventLogException>(() => used.AcquireAsync("a", 3, Lock, endOffset: 2));
        Assert.Equal(EventLogErrorReason.StreamNotFound, gone.Reason);
        Assert.Contains("open", gone.Message, StringComparison.Ordinal);
        Assert.Equal(EventLogErrorReason.StreamNotFound, (await Assert.ThrowsAsync<EventLogException>(() => unused.AcquireAsync("b", 3, Lock, endOffset: 2))).Reason);
        Assert.Empty(await log.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "queues/life/", CancellationToken.None).ToListAsync());

        PartitionQueue reopened = await log.OpenQueueAsync("g", "life", 0); // what the runtime does on that error
        Assert.Equal([0L, 1L], (await reopened.AcquireAsync("a", 3, Lock, endOffset: 2)).Select(d => d.Offset));
        Assert.NotNull((await log.GetQueueStatesAsync("g", "life"))[0]); // where the scaler and the admin commands look
    }

    [Fact]
    public async Task A_stream_deleted_and_created_again_between_the_queue_s_check_and_its_first_write_leaves_no_queue_under_the_old_path()
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions() });
        EventLogClient admin = azurite.CreateClientFor(log);
        await log.CreateStreamAsync(new StreamDefinition { Name = "swept" });
        PartitionQueue queue = await log.OpenQueueAsync("g", "swept", 0);

        // Right after the queue's check of the stream (before its first write): the stream is deleted (its queues swept)
        // and created again. The first write then lands under the old stream's path.
        faults.After(
            StorageOperation.GetBlob,
            async () =>
            {
                await admin.DeleteStreamAsync("swept");
                await admin.CreateStreamAsync(new StreamDefinition { Name = "swept" });
            },
            where: r => r.Uri.Path.EndsWith(StoragePaths.StreamDocument("swept"), StringComparison.Ordinal));

        EventLogException gone = await Assert.ThrowsAsync<EventLogException>(() => queue.AcquireAsync("a", 3, Lock, endOffset: 3));
        Assert.Equal(EventLogErrorReason.StreamNotFound, gone.Reason);
        Assert.Empty(await log.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "queues/swept/", CancellationToken.None).ToListAsync()); // deleted again: no orphan
    }

    [Fact]
    public async Task A_queue_whose_state_was_deleted_under_it_refuses_so_its_consumer_starts_over()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "wiped" });
        PartitionQueue queue = await log.OpenQueueAsync("g", "wiped", 0);
        await queue.AcquireAsync("a", 2, Lock, endOffset: 4);
        await log.Groups.DeleteAsync("wiped", "g", force: true);

        EventLogException gone = await Assert.ThrowsAsync<EventLogException>(() => queue.AcquireAsync("a", 2, Lock, endOffset: 4));
        Assert.Equal(EventLogErrorReason.GroupNotFound, gone.Reason);
        Assert.Null((await log.GetQueueStatesAsync("g", "wiped"))[0]); // not written back by the old holder
    }

    [Fact]
    public async Task The_window_bounds_what_is_in_flight_above_the_settled_offset()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "jobs" });
        PartitionQueue small = await log.OpenQueueAsync("windowed", "jobs", 0, window: 10);
        IReadOnlyList<QueueDelivery> first = await small.AcquireAsync("a", 100, Lock, endOffset: 1000);
        Assert.Equal(10, first.Count);
        Assert.Empty(await small.AcquireAsync("b", 100, Lock, endOffset: 1000)); // the window is full
        await small.SettleAsync("a", [new(0, QueueOutcome.Accepted), new(5, QueueOutcome.Accepted)]);
        Assert.Equal([10L], (await small.AcquireAsync("b", 100, Lock, endOffset: 1000)).Select(d => d.Offset)); // it moved by one
    }
}
