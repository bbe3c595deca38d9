using System.Collections.Concurrent;
using FaasEvents.Log.Queues;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
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
