using System.Collections.Concurrent;
using FaasEvents.Functions.Runtime;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>The balancer's claiming, handover and expiry logic, cycle by cycle on the in-memory store: milliseconds per test.</summary>
public sealed class PartitionBalancerTests : IAsyncLifetime
{
    private readonly InMemoryRuntime runtime = new();

    public static class Counting
    {
        /// <summary>Invocations running now, by partition; a second one on the same partition is an overlap.</summary>
        public static ConcurrentDictionary<int, int> Running { get; } = [];

        public static int Overlaps;

        public static ConcurrentBag<string> Handled { get; } = [];

        /// <summary>When set, invocations wait for it (an invocation in flight during a handover).</summary>
        public static TaskCompletionSource? Gate { get; set; }

        public static TaskCompletionSource InFlight { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        [Function("pb-count")]
        public static async Task Handle([EventTrigger("pb-in")] StoredEvent e)
        {
            if (Running.AddOrUpdate(e.Partition, 1, (_, n) => n + 1) > 1)
            {
                Interlocked.Increment(ref Overlaps);
            }

            await Task.Yield();
            if (Gate is { } gate)
            {
                InFlight.TrySetResult();
                await gate.Task;
            }

            Handled.Add(e.Event.Id);
            Running.AddOrUpdate(e.Partition, 0, (_, n) => n - 1);
        }
    }

    public Task InitializeAsync()
    {
        runtime.Log.CreateStream("pb-in", 4);
        Counting.Running.Clear();
        Counting.Handled.Clear();
        Counting.Overlaps = 0;
        Counting.Gate = null;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await runtime.DisposeAsync();

    [Fact]
    public async Task One_instance_claims_every_free_partition_in_one_cycle()
    {
        var balancer = new PartitionBalancer(runtime.Host(typeof(Counting), "pb-count"));

        await balancer.CycleAsync(CancellationToken.None);

        Assert.Equal([0, 1, 2, 3], balancer.Owned);
        await balancer.StopAsync(CancellationToken.None);
        Assert.Empty(balancer.Owned);
    }

    [Fact]
    public async Task A_second_instance_gets_its_fair_share_by_handover_without_overlap_and_nothing_is_lost()
    {
        var first = new PartitionBalancer(runtime.Host(typeof(Counting), "pb-count", instance: "first", seed: 1));
        var second = new PartitionBalancer(runtime.Host(typeof(Counting), "pb-count", instance: "second", seed: 2));
        await first.CycleAsync(CancellationToken.None);
        runtime.Produce("pb-in", Enumerable.Range(0, 200).Select(i => $"e{i}"));

        // The second asks for two partitions; the first hands them over at its next renewal; the second claims them.
        for (int cycle = 0; cycle < 20 && (first.Owned.Count != 2 || second.Owned.Count != 2); cycle++)
        {
            await second.CycleAsync(CancellationToken.None);
            await first.CycleAsync(CancellationToken.None);
            runtime.Time.Advance(TimeSpan.FromSeconds(5)); // past the handed-over window, so a claim may follow
            await Task.Delay(5);
        }

        Assert.Equal(2, first.Owned.Count);
        Assert.Equal(2, second.Owned.Count);
        Assert.Empty(first.Owned.Intersect(second.Owned));
        await InMemoryRuntime.WaitUntilAsync(() => Enumerable.Range(0, 4).Sum(p => runtime.Checkpoint("pb-count", "pb-in", p) ?? 0) == 200, "every event is checkpointed");
        await first.StopAsync(CancellationToken.None);
        await second.StopAsync(CancellationToken.None);

        Assert.Equal(0, Counting.Overlaps);
        Assert.Equal(200, Counting.Handled.Distinct().Count());
    }

    [Fact]
    public async Task A_partition_asked_for_is_not_acquired_while_its_owner_still_runs_an_invocation_on_it()
    {
        var owner = new PartitionBalancer(runtime.Host(typeof(Counting), "pb-count", instance: "owner"));
        FunctionHost askerHost = runtime.Host(typeof(Counting), "pb-count", instance: "asker");
        await owner.CycleAsync(CancellationToken.None);
        Counting.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Counting.InFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        runtime.Produce("pb-in", ["held"], key: "k"); // one invocation, held in flight
        await Counting.InFlight.Task.WaitAsync(TimeSpan.FromSeconds(10));
        int partition = Counting.Running.Single(kv => kv.Value == 1).Key;

        await askerHost.Checkpoints.RequestHandoverAsync("pb-count", "pb-in", partition, TimeSpan.FromSeconds(15), CancellationToken.None);
        await owner.CycleAsync(CancellationToken.None); // the owner hears the request at its renewal and starts handing over
        Assert.DoesNotContain(partition, owner.Owned);
        for (int i = 0; i < 5; i++)
        {
            Assert.Null(await askerHost.Checkpoints.TryAcquireAsync("pb-count", "pb-in", partition, TimeSpan.FromSeconds(15), CancellationToken.None)); // still fenced: the invocation runs
            await Task.Delay(5);
        }

        Counting.Gate.SetResult(); // the invocation ends; the owner checkpoints and releases
        await InMemoryRuntime.WaitUntilAsync(() => runtime.Checkpoint("pb-count", "pb-in", partition) == 1, "the handed-over partition checkpointed by its owner");
        PartitionLease? taken = null;
        await InMemoryRuntime.WaitUntilAsync(() => (taken = askerHost.Checkpoints.TryAcquireAsync("pb-count", "pb-in", partition, TimeSpan.FromSeconds(15), CancellationToken.None).Result) is not null, "the asker acquires it once released");
        Assert.Equal(1, (await askerHost.Checkpoints.GetCheckpointAsync("pb-count", "pb-in", partition, CancellationToken.None))!.NextOffset); // resumes after the handled event
        Assert.Equal(0, Counting.Overlaps);
        await owner.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_partition_whose_owner_stopped_renewing_is_claimed_once_its_lease_expires_and_the_old_owner_cannot_checkpoint()
    {
        FunctionHost stalledHost = runtime.Host(typeof(Counting), "pb-count", instance: "stalled");
        var old = new List<PartitionLease>();
        for (int p = 0; p < 4; p++)
        {
            old.Add((await stalledHost.Checkpoints.TryAcquireAsync("pb-count", "pb-in", p, TimeSpan.FromSeconds(15), CancellationToken.None))!); // then never renewed: a paused process
        }

        var successor = new PartitionBalancer(runtime.Host(typeof(Counting), "pb-count", instance: "successor"));
        await successor.CycleAsync(CancellationToken.None);
        Assert.Empty(successor.Owned); // the leases are still valid: nothing is taken early

        await stalledHost.Checkpoints.UpdateCheckpointAsync(old[0], 1, null, null, null, CancellationToken.None); // still its own: writes pass
        runtime.LeaseClock.Advance(TimeSpan.FromSeconds(16));
        EventLogException expired = await Assert.ThrowsAsync<EventLogException>(() => stalledHost.Checkpoints.UpdateCheckpointAsync(old[1], 1, null, null, null, CancellationToken.None));
        Assert.Equal(EventLogErrorReason.LeaseLost, expired.Reason); // expired, even before anyone else claims it
        await successor.CycleAsync(CancellationToken.None);
        Assert.Equal([0, 1, 2, 3], successor.Owned);

        foreach (PartitionLease lease in old)
        {
            EventLogException lost = await Assert.ThrowsAsync<EventLogException>(() => stalledHost.Checkpoints.UpdateCheckpointAsync(lease, 2, null, null, null, CancellationToken.None));
            Assert.Equal(EventLogErrorReason.LeaseLost, lost.Reason);
        }

        await successor.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task The_same_seed_makes_the_same_claims()
    {
        async Task<IReadOnlyList<int>> ClaimsAsync(int seed)
        {
            await using var isolated = new InMemoryRuntime();
            isolated.Log.CreateStream("pb-in", 4);
            var a = new PartitionBalancer(isolated.Host(typeof(Counting), "pb-count", instance: "a", seed: seed));
            var b = new PartitionBalancer(isolated.Host(typeof(Counting), "pb-count", instance: "b", seed: seed));
            await a.CycleAsync(CancellationToken.None);
            await b.CycleAsync(CancellationToken.None);
            await a.CycleAsync(CancellationToken.None);
            IReadOnlyList<int> owned = a.Owned;
            await a.StopAsync(CancellationToken.None);
            await b.StopAsync(CancellationToken.None);
            return owned;
        }

        Assert.Equal(await ClaimsAsync(7), await ClaimsAsync(7));
    }
}
