using System.Collections.Concurrent;
using FaasEvents.Log.Events;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// <c>maxConcurrentPartitions</c> bounds the partitions running handlers at once in an instance. A partition keeps its
/// slot from one event to the next while other slots are free (no lock per event), but with every slot taken the
/// partitions take turns per invocation, as they did when each invocation took and gave back its slot.
/// </summary>
public sealed class ConcurrencySlotTests : IAsyncLifetime
{
    private const string HostJson = """
        { "version": "2.0", "extensions": { "eventLog": {
            "maxConcurrentPartitions": 1, "pollInterval": "00:00:00.050", "maxPollInterval": "00:00:00.200", "leaseDuration": "00:00:15" } } }
        """;

    private readonly InMemoryRuntime runtime = new();

    public static class Turns
    {
        private static int running;

        public static ConcurrentQueue<int> Order { get; } = new();

        public static int MostAtOnce;

        [Function("cs-turns")]
        public static async Task Handle([EventTrigger("cs-turns-in")] StoredEvent e)
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref MostAtOnce, now);
            Order.Enqueue(e.Partition);
            await Task.Delay(10);
            Interlocked.Decrement(ref running);
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await runtime.DisposeAsync();

    [Fact]
    public async Task With_every_slot_taken_partitions_take_turns_per_invocation_and_never_run_at_once()
    {
        runtime.Log.CreateStream("cs-turns-in", 2);
        runtime.Log.Append("cs-turns-in", [.. Enumerable.Range(0, 60).Select(i => new LogEvent($"e{i}", "/test", "test"))]); // 30 per partition, one block each

        await using (FunctionsApp app = AppHarness.BuildInMemory(runtime, typeof(Turns), HostJson))
        {
            await app.StartAsync();
            await AppHarness.WaitUntilAsync(() => runtime.Lag("cs-turns", "cs-turns-in") == 0, "both partitions handled and checkpointed");
            await app.StopAsync();
        }

        int[] order = [.. Turns.Order];
        Assert.Equal(60, order.Length);
        Assert.Equal(1, Turns.MostAtOnce);

        // From when both partitions are running until one runs out of events, the slot goes back and forth.
        int both = Array.FindIndex(order, p => p != order[0]);
        Assert.True(both is > 0 and < 29, $"the second partition started only after {both} invocations of the first: nothing to take turns with (order: {string.Join("", order)})");
        int end = Math.Min(LastIndex(order, 0), LastIndex(order, 1));
        int longestRun = 1, run = 1;
        for (int i = both + 1; i <= end; i++)
        {
            run = order[i] == order[i - 1] ? run + 1 : 1;
            longestRun = Math.Max(longestRun, run);
        }

        Assert.True(longestRun <= 2, $"one partition ran {longestRun} invocations in a row while the other waited for the only slot (order: {string.Join("", order)})");
    }

    private static int LastIndex(int[] order, int partition) => Array.LastIndexOf(order, partition);
}
