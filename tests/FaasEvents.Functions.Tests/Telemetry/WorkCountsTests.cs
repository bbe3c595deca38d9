using System.Collections.Concurrent;
using FaasEvents.Functions.Tests.Runtime;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Queues;

namespace FaasEvents.Functions.Tests.Telemetry;

/// <summary>
/// What a function did is kept with its checkpoints (stream consumption) or its queue state (queue consumption), so
/// the server and the console can show invocations, failures, retries, dead letters and cold starts without the
/// instances running and without a request of their own: handled events, each failed attempt, each retry, each
/// dead-lettered event and the process's first invocation of the function, summed over instances and checkpoints.
/// </summary>
public sealed class WorkCountsTests : IAsyncLifetime
{
    private readonly InMemoryRuntime runtime = new();

    public sealed record Item(string Id);

    public static class StreamFunctions
    {
        [Function("wc-stream")]
        public static void Run([EventTrigger("wc-in")] Item item) => Attempts.Attempt(item.Id);
    }

    public static class QueueFunctions
    {
        [Function("wc-queue")]
        public static void Take([EventTrigger("wc-jobs", Mode = Consumption.Queue)] Item item) => Attempts.Attempt(item.Id);
    }

    public static class Attempts
    {
        private static readonly ConcurrentDictionary<string, int> Made = new();

        /// <summary>"flaky-*" fails its first attempt, "poison-*" every attempt.</summary>
        public static void Attempt(string id)
        {
            int attempt = Made.AddOrUpdate(id, 1, (_, n) => n + 1);
            if (id.StartsWith("poison", StringComparison.Ordinal) || (id.StartsWith("flaky", StringComparison.Ordinal) && attempt == 1))
            {
                throw new InvalidOperationException($"{id} failed attempt {attempt}");
            }
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await runtime.DisposeAsync();

    [Fact]
    public async Task A_stream_function_s_checkpoints_carry_what_it_did_across_instances()
    {
        runtime.Log.CreateStream("wc-in", 1);
        runtime.Log.Append("wc-in", [Event("s-ok-1"), Event("s-ok-2"), Event("flaky-s"), Event("poison-s"), Event("s-ok-3")]);
        await using (FunctionsApp first = AppHarness.BuildInMemory(runtime, typeof(StreamFunctions), HostJson))
        {
            await first.StartAsync();
            await AppHarness.WaitUntilAsync(() => runtime.Checkpoint("wc-stream", "wc-in", 0) == 5, "the first instance checkpointed all five events");
            await first.StopAsync();
        }

        // A second instance (a new app; the same process, so not a cold start of the function) adds to the same counts.
        runtime.Log.Append("wc-in", [Event("s-ok-4"), Event("s-ok-5")]);
        await using (FunctionsApp second = AppHarness.BuildInMemory(runtime, typeof(StreamFunctions), HostJson))
        {
            await second.StartAsync();
            await AppHarness.WaitUntilAsync(() => runtime.Checkpoint("wc-stream", "wc-in", 0) == 7, "the second instance checkpointed the two new events");
            await second.StopAsync();
        }

        Checkpoint? checkpoint = await runtime.Store("observer").GetCheckpointAsync("wc-stream", "wc-in", 0, CancellationToken.None);
        // 6 handled (the poison one is dead-lettered, not handled); 1 + 3 failed attempts (maxRetryCount 2: three
        // attempts of the poison event); 1 + 2 retries; 1 dead letter; one cold start (this process's first invocation).
        Assert.Equal(new WorkCounts(Handled: 6, Failures: 4, Retries: 3, DeadLettered: 1, ColdStarts: 1), checkpoint?.Counts);
    }

    [Fact]
    public async Task A_queue_function_s_queue_state_carries_what_it_did()
    {
        runtime.Log.CreateStream("wc-jobs", 2);
        runtime.Log.Append("wc-jobs", [.. Enumerable.Range(0, 6).Select(i => Event($"q-ok-{i}")), Event("flaky-q"), Event("poison-q")]);
        await using FunctionsApp app = AppHarness.BuildInMemory(runtime, typeof(QueueFunctions), HostJson);
        await app.StartAsync();
        WorkCounts? Sum() => WorkCounts.Sum(Enumerable.Range(0, 2).Select(p => runtime.Partitions.Queues.StateOf("wc-queue", "wc-jobs", p).Counts));
        await AppHarness.WaitUntilAsync(() => Sum() is { Handled: 7, DeadLettered: 1 }, "7 jobs handled and the poison one dead-lettered, as the queue state counts them");
        await app.StopAsync();

        // maxDeliveryCount 3: the poison job failed three deliveries (two of them redeliveries), the flaky one its first.
        Assert.Equal(new WorkCounts(Handled: 7, Failures: 4, Retries: 3, DeadLettered: 1, ColdStarts: 1), Sum());
    }

    [Fact]
    public void A_queue_round_stores_counts_only_when_it_writes_anyway_and_the_stored_book_keeps_them()
    {
        QueueBook book = QueueBook.Parse(null);
        DateTimeOffset now = DateTimeOffset.UnixEpoch;
        QueueUpdate idle = book.Round(0, "a", [], 0, TimeSpan.FromSeconds(10), 0, 0, 1000, now, out bool changed, new WorkCounts(0, 0, 0, 0, 1));
        Assert.False(changed);
        Assert.False(idle.Counted); // nothing to write: the counts wait for the next write
        QueueUpdate taken = book.Round(0, "a", [], 2, TimeSpan.FromSeconds(10), 2, 0, 1000, now, out changed, new WorkCounts(0, 0, 0, 0, 1));
        Assert.True(changed && taken.Counted);
        book.Round(0, "a", [new QueueSettlement(0, QueueOutcome.Accepted), new QueueSettlement(1, QueueOutcome.Released, default, "boom")], 0, TimeSpan.FromSeconds(10), 2, 0, 1000, now, out _, new WorkCounts(1, 1, 0, 0, 0));
        Assert.Equal(new WorkCounts(1, 1, 0, 0, 1), QueueBook.Parse(book.ToBinaryData()).ToState().Counts);
        Assert.Null(QueueBook.Parse(null).ToState().Counts); // a queue nothing counted in says so
    }

    /// <summary>Both tests' functions are in one class: each test's app runs both, on its own streams.</summary>
    private const string HostJson = """
        { "version": "2.0", "extensions": { "eventLog": {
            "pollInterval": "00:00:00.050", "maxPollInterval": "00:00:00.200", "leaseDuration": "00:00:15",
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 2, "delayInterval": "00:00:00" },
            "queue": { "lockDuration": "00:00:10", "maxDeliveryCount": 3, "maxConcurrentCalls": 2 } } } }
        """;

    private static LogEvent Event(string id) => new(id, "/tests", "item") { DataContentType = "application/json", Data = BinaryData.FromObjectAsJson(new Item(id)) };
}
