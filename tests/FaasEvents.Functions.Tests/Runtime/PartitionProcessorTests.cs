using System.Collections.Concurrent;
using CloudNative.CloudEvents;
using FaasEvents.Functions.Runtime;
using FaasEvents.Functions.Storage.InMemory;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>The partition processor's logic on the in-memory log and checkpoint store: each test runs in milliseconds.</summary>
public sealed class PartitionProcessorTests : IAsyncLifetime
{
    private readonly InMemoryRuntime runtime = new();

    public static class Ordered
    {
        public static ConcurrentQueue<string> Handled { get; } = [];

        [Function("pp-ordered")]
        public static void Handle([EventTrigger("pp-ordered-in")] LogEvent e) => Handled.Enqueue(e.Id);
    }

    public static class Poison
    {
        public static ConcurrentDictionary<string, int> Tries { get; } = [];

        [Function("pp-poison")]
        public static void Handle([EventTrigger("pp-poison-in")] LogEvent e)
        {
            Tries.AddOrUpdate(e.Id, 1, (_, n) => n + 1);
            if (e.Id == "e2")
            {
                throw new InvalidOperationException("e2 is poison");
            }
        }
    }

    public static class BatchPoison
    {
        public static ConcurrentBag<string> Handled { get; } = [];

        [Function("pp-batch")]
        public static void Handle([EventTrigger("pp-batch-in")] IReadOnlyList<StoredEvent> batch)
        {
            if (batch.Any(e => e.Event.Id == "e3"))
            {
                throw new InvalidOperationException("e3 is poison");
            }

            foreach (StoredEvent e in batch)
            {
                Handled.Add(e.Event.Id);
            }
        }
    }

    public static class Echo
    {
        public static ConcurrentDictionary<string, int> Runs { get; } = [];

        [Function("pp-echo")]
        [EventOutput("pp-echo-out")]
        public static LogEvent Handle([EventTrigger("pp-echo-in")] LogEvent e)
        {
            Runs.AddOrUpdate(e.Id, 1, (_, n) => n + 1);
            return new LogEvent(e.Id + "-out", "/test", "echo");
        }
    }

    public static class Stuck
    {
        public static TaskCompletionSource Started { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        [Function("pp-stuck")]
        public static async Task Handle([EventTrigger("pp-stuck-in")] LogEvent e, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken); // never returns on its own
        }
    }

    public static class Texts
    {
        /// <summary>Two outputs per input, as plain strings: the runtime makes their events and ids.</summary>
        [Function("pp-text")]
        [EventOutput("pp-text-out")]
        public static string[] Handle([EventTrigger("pp-text-in")] LogEvent e) => [e.Id + "-1", e.Id + "-2"];
    }

    public static class TextReader
    {
        public static ConcurrentQueue<string> Seen { get; } = new();

        [Function("pp-text-reader")]
        public static void Handle([EventTrigger("pp-text-out")] LogEvent e) => Seen.Enqueue(e.Data!.ToString());
    }

    public static class Counted
    {
        public static ConcurrentQueue<string> Handled { get; } = new();

        public static TimeSpan Delay { get; set; }

        [Function("pp-count")]
        [EventOutput("pp-count-out")]
        [FixedDelayRetry(1, "00:00:00")]
        public static async Task<string> Handle([EventTrigger("pp-count-in")] LogEvent e)
        {
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay);
            }

            Handled.Enqueue(e.Id);
            return e.Type == "big" ? new string('x', LogEvent.MaxEncodedSize + 1) : e.Id + "-out"; // one output over the limit: the handler's failure
        }
    }

    public static class Slow
    {
        public static TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static ConcurrentQueue<string> Finished { get; } = [];

        [Function("pp-slow")]
        public static async Task Handle([EventTrigger("pp-slow-in")] LogEvent e)
        {
            Started.TrySetResult();
            await Release.Task;
            Finished.Enqueue(e.Id);
        }
    }

    public static class BigEvent
    {
        [Function("pp-big")]
        [FixedDelayRetry(1, "00:00:00")]
        public static void Big([EventTrigger("pp-big-in")] CloudEvent e)
        {
            if (e.Type == "poison")
            {
                throw new InvalidOperationException("refused: " + new string('r', 1500)); // dlqerror keeps 1,024 characters of it
            }
        }
    }

    public static class HugeId
    {
        [Function("pp-id")]
        [FixedDelayRetry(1, "00:00:00")]
        public static void Handle([EventTrigger("pp-id-in")] CloudEvent e) => throw new InvalidOperationException("always");
    }

    public static class Idle
    {
        public static ConcurrentQueue<string> Seen { get; } = new();

        [Function("pp-idle")]
        public static void Handle([EventTrigger("pp-idle-in")] CloudEvent e) => Seen.Enqueue(e.Id!);
    }

    public static class BatchOutputs
    {
        /// <summary>Returns one output per input, in input order: output i belongs to input i.</summary>
        [Function("pp-aligned")]
        [EventOutput("pp-aligned-out")]
        public static IEnumerable<string> Aligned([EventTrigger("pp-bk-in")] IReadOnlyList<StoredEvent> batch) => batch.Select(e => "out-" + e.Event.Id);

        /// <summary>Says which input each output belongs to.</summary>
        [Function("pp-explicit")]
        [EventOutput("pp-explicit-out")]
        public static string[] Explicit([EventTrigger("pp-bk-in")] IReadOnlyList<StoredEvent> batch, FunctionContext context)
        {
            foreach (StoredEvent e in batch.Where(e => !e.Event.Id.EndsWith("-skip", StringComparison.Ordinal)))
            {
                context.AddOutput("out-" + e.Event.Id, e); // not aligned with the inputs: says which input each belongs to
            }

            return [];
        }
    }

    public Task InitializeAsync()
    {
        Ordered.Handled.Clear();
        Poison.Tries.Clear();
        BatchPoison.Handled.Clear();
        Echo.Runs.Clear();
        TextReader.Seen.Clear();
        Idle.Seen.Clear();
        Counted.Handled.Clear();
        Counted.Delay = TimeSpan.Zero;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await runtime.DisposeAsync();

    [Fact]
    public async Task Handles_a_partition_in_offset_order_and_checkpoints_after_it()
    {
        runtime.Log.CreateStream("pp-ordered-in", 1);
        runtime.Produce("pp-ordered-in", ["a", "b", "c"]);
        runtime.Produce("pp-ordered-in", ["d", "e"]);
        FunctionHost host = runtime.Host(typeof(Ordered), "pp-ordered");

        PartitionProcessor processor = await RunUntilCheckpointedAsync(host, "pp-ordered-in", 5, "offset 5 is checkpointed");

        Assert.Equal(["a", "b", "c", "d", "e"], Ordered.Handled);
        Assert.Null(processor.Failure);
    }

    [Fact]
    public async Task A_poison_event_is_retried_then_dead_lettered_and_the_partition_moves_on()
    {
        runtime.Log.CreateStream("pp-poison-in", 1);
        runtime.Produce("pp-poison-in", ["e0", "e1", "e2", "e3", "e4"]);
        FunctionHost host = runtime.Host(typeof(Poison), "pp-poison");

        await RunUntilCheckpointedAsync(host, "pp-poison-in", 5, "offset 5 is checkpointed");

        StoredEvent letter = Assert.Single(runtime.Log.Events("pp-poison-in.pp-poison.deadletter"));
        Assert.Equal("e2", letter.Event.Id);
        Assert.Equal(3, letter.Event.Extensions["dlqattempts"]);
        Assert.Equal(3, Poison.Tries["e2"]); // 1 try + 2 retries
        Assert.All(new[] { "e0", "e1", "e3", "e4" }, id => Assert.Equal(1, Poison.Tries[id]));
    }

    /// <summary>Issue 12, item 12: one poison event in a batch function is dead-lettered alone (moved here from the Azurite BatchPoisonTests).</summary>
    [Fact]
    public async Task Only_the_poison_event_of_a_failing_batch_is_dead_lettered()
    {
        runtime.Log.CreateStream("pp-batch-in", 1);
        runtime.Produce("pp-batch-in", Enumerable.Range(0, 8).Select(i => $"e{i}"));
        FunctionHost host = runtime.Host(typeof(BatchPoison), "pp-batch", InMemoryRuntime.FastOptions(maxBatchSize: 10));

        await RunUntilCheckpointedAsync(host, "pp-batch-in", 8, "offset 8 is checkpointed");

        Assert.Equal(["e3"], runtime.Log.Events("pp-batch-in.pp-batch.deadletter").Select(e => e.Event.Id));
        Assert.Equal(["e0", "e1", "e2", "e4", "e5", "e6", "e7"], BatchPoison.Handled.Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Output_appends_failing_in_storage_are_waited_out_without_running_the_handler_again()
    {
        runtime.Log.CreateStream("pp-echo-in", 1);
        runtime.Log.CreateStream("pp-echo-out", 1);
        runtime.Produce("pp-echo-in", ["x"]);
        int failures = 0;
        runtime.Log.AppendFault = stream => stream == "pp-echo-out" && Interlocked.Increment(ref failures) <= 4
            ? new EventLogException(EventLogErrorReason.StorageFailure, "injected: storage unavailable")
            : null;
        FunctionHost host = runtime.Host(typeof(Echo), "pp-echo");

        PartitionProcessor processor = await StartAsync(host, "pp-echo-in");
        await InMemoryRuntime.WaitUntilAsync(() => processor.Stall is not null, "the partition reports its stalled output write");
        await InMemoryRuntime.WaitUntilAsync(() => runtime.Checkpoint("pp-echo", "pp-echo-in", 0) == 1, "offset 1 is checkpointed");
        processor.Stop();
        await processor.Completion;

        Assert.Equal(1, Echo.Runs["x"]); // no re-run, no dead letter
        Assert.Equal(["x-out"], runtime.Log.Events("pp-echo-out").Select(e => e.Event.Id));
        Assert.Empty(runtime.Log.Events("pp-echo-in.pp-echo.deadletter"));
        Assert.Null(processor.Stall); // cleared once the write succeeded
    }

    [Fact]
    public async Task Nothing_starts_once_the_lease_expired_by_the_local_clock_and_nothing_is_checkpointed()
    {
        runtime.Log.CreateStream("pp-ordered-in", 1);
        FunctionHost host = runtime.Host(typeof(Ordered), "pp-ordered");
        PartitionProcessor processor = await StartAsync(host, "pp-ordered-in");

        runtime.LeaseClock.Advance(TimeSpan.FromSeconds(16)); // past the 15 s lease: another instance may own it now
        runtime.Produce("pp-ordered-in", ["late"]);
        await processor.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.DoesNotContain("late", Ordered.Handled);
        Assert.Null(runtime.Checkpoint("pp-ordered", "pp-ordered-in", 0));
    }

    [Fact]
    public async Task A_graceful_stop_finishes_the_in_flight_invocation_and_checkpoints_it()
    {
        runtime.Log.CreateStream("pp-slow-in", 1);
        runtime.Produce("pp-slow-in", ["s0", "s1"]);
        FunctionHost host = runtime.Host(typeof(Slow), "pp-slow");
        PartitionProcessor processor = await StartAsync(host, "pp-slow-in");

        await Slow.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        processor.Stop();
        Slow.Release.SetResult();
        await processor.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["s0"], Slow.Finished); // s1 never started
        Assert.Equal(1, runtime.Checkpoint("pp-slow", "pp-slow-in", 0));
    }

    /// <summary>Issue 12, defect 3 (moved here from the Azurite DeadLetterWritabilityTests): a letter that would be over the limit leaves out the data and says so.</summary>
    [Fact]
    public async Task An_event_near_the_size_limit_is_dead_lettered_without_its_data_and_the_partition_moves_on()
    {
        runtime.Log.CreateStream("pp-big-in", 1);
        var big = new LogEvent("big", "/t", "poison") { DataContentType = "application/octet-stream", Subject = "s-1" };
        big.Extensions["tenant"] = "acme";
        big.Data = BinaryData.FromBytes(new byte[LogEvent.MaxEncodedSize - 300]);
        Assert.InRange(big.EncodedSize, LogEvent.MaxEncodedSize - 300, LogEvent.MaxEncodedSize); // fits: it was accepted
        runtime.Log.Append("pp-big-in", [big, new LogEvent("after", "/t", "good")]);
        FunctionHost host = runtime.Host(typeof(BigEvent), "pp-big");

        await RunUntilCheckpointedAsync(host, "pp-big-in", 2, "the big poison event dead-lettered and the partition past it");

        StoredEvent letter = Assert.Single(runtime.Log.Events("pp-big-in.pp-big.deadletter"));
        Assert.Equal(("big", "poison", "s-1", "acme"), (letter.Event.Id, letter.Event.Type, letter.Event.Subject, letter.Event.Extensions["tenant"].ToString()));
        Assert.Null(letter.Event.Data); // left out by the rule, and said so:
        Assert.Equal("data", letter.Event.Extensions["dlqomitted"].ToString());
        Assert.Equal((LogEvent.MaxEncodedSize - 300).ToString(System.Globalization.CultureInfo.InvariantCulture), letter.Event.Extensions["dlqdatasize"].ToString());
        Assert.Equal(("pp-big-in", "0"), (letter.Event.Extensions["dlqstream"].ToString(), letter.Event.Extensions["dlqoffset"].ToString())); // where the data still is
        Assert.StartsWith("InvalidOperationException: refused: rrr", letter.Event.Extensions["dlqerror"].ToString(), StringComparison.Ordinal);
    }

    /// <summary>Issue 12, defect 3 (moved here from the Azurite DeadLetterWritabilityTests): a letter that can never be written halts the partition with the reason.</summary>
    [Fact]
    public async Task A_dead_letter_that_can_never_be_written_halts_the_partition_with_the_reason_instead_of_retrying_forever()
    {
        runtime.Log.CreateStream("pp-id-in", 1);
        runtime.Log.Append("pp-id-in", [new LogEvent(new string('i', LogEvent.MaxEncodedSize - 100), "/t", "t")]); // the id alone nearly fills an event: no rule can shrink it
        FunctionHost host = runtime.Host(typeof(HugeId), "pp-id");

        PartitionProcessor processor = await StartAsync(host, "pp-id-in");
        await processor.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(processor.Halted);
        Assert.Contains("dead letter", processor.HaltReason, StringComparison.Ordinal); // the reason, for whoever looks
        Assert.Contains("limit", processor.HaltReason, StringComparison.Ordinal);
        Assert.True(runtime.Checkpoint("pp-id", "pp-id-in", 0) is null or 0, "the event was checkpointed past without a dead letter");
        Assert.Empty(runtime.Log.Events("pp-id-in.pp-id.deadletter"));
    }

    /// <summary>Issue 12, defect 9 (moved here from the Azurite IdleCheckpointTests): with batchCheckpointFrequency above 1 the idle tail is checkpointed, so lag reaches 0.</summary>
    [Fact]
    public async Task The_unchecked_tail_is_checkpointed_when_the_partition_goes_idle_so_lag_reaches_zero()
    {
        runtime.Log.CreateStream("pp-idle-in", 1);
        EventLogHostOptions options = InMemoryRuntime.FastOptions(maxBatchSize: 1);
        options.BatchCheckpointFrequency = 5;
        FunctionHost host = runtime.Host(typeof(Idle), "pp-idle", options);
        PartitionProcessor processor = await StartAsync(host, "pp-idle-in");
        for (int i = 0; i < 3; i++)
        {
            runtime.Produce("pp-idle-in", [$"idle-{i}"]); // 3 batches: fewer than the frequency of 5
        }

        await InMemoryRuntime.WaitUntilAsync(() => Idle.Seen.Count >= 3, "the three events handled");
        await InMemoryRuntime.WaitUntilAsync(() => runtime.Checkpoint("pp-idle", "pp-idle-in", 0) == 3, "lag 0 while the processor is idle and still running");
        Assert.False(processor.Completion.IsCompleted);
        processor.Stop();
        await processor.Completion;
    }

    /// <summary>Issue 12, defect 2 (moved here from the Azurite BatchOutputKeyTests): a batch function's outputs keep the key of the input they belong to.</summary>
    [Fact]
    public async Task Outputs_of_a_batch_with_inputs_keyed_a_b_c_keep_their_inputs_keys()
    {
        runtime.Log.CreateStream("pp-bk-in", 1);
        runtime.Log.CreateStream("pp-aligned-out", 4);
        runtime.Log.CreateStream("pp-explicit-out", 4);
        string[] keys = ["a", "b", "c", "a", "c", "b"];
        runtime.Log.Append("pp-bk-in", keys.Select((k, i) => new LogEvent($"e{i}{(i == 2 ? "-skip" : "")}", "/t", "t") { PartitionKey = k }).ToList()); // one batch of six
        foreach (string name in new[] { "pp-aligned", "pp-explicit" })
        {
            await RunUntilCheckpointedAsync(runtime.Host(typeof(BatchOutputs), name, InMemoryRuntime.FastOptions(maxBatchSize: 10)), "pp-bk-in", 6, $"{name} handled the batch");
        }

        var aligned = runtime.Log.Events("pp-aligned-out").ToDictionary(e => e.Event.Data!.ToString(), e => e.Event.PartitionKey);
        Assert.Equal(keys.Select((k, i) => ($"out-e{i}{(i == 2 ? "-skip" : "")}", (string?)k)).OrderBy(x => x.Item1), aligned.Select(kv => (kv.Key, kv.Value)).OrderBy(x => x.Key));
        var explicitly = runtime.Log.Events("pp-explicit-out").ToDictionary(e => e.Event.Data!.ToString(), e => e.Event.PartitionKey);
        Assert.Equal(keys.Select((k, i) => ($"out-e{i}", (string?)k)).Where((_, i) => i != 2).OrderBy(x => x.Item1), explicitly.Select(kv => (kv.Key, kv.Value)).OrderBy(x => x.Key));
    }

    /// <summary>
    /// A stuck invocation whose lease is not renewed is cancelled before the lease's local expiry, with a margin of one
    /// watchdog check: a successor acquiring the partition the moment storage frees it never overlaps it, even when
    /// the watchdog's check comes late (HandoverTests saw B start while A's invocation ran, on a loaded CI machine).
    /// </summary>
    [Fact]
    public async Task A_stuck_invocation_is_cancelled_a_watchdog_check_before_its_lease_expires()
    {
        Stuck.Started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        runtime.Log.CreateStream("pp-stuck-in", 1);
        runtime.Produce("pp-stuck-in", ["s0"]);
        FunctionHost host = runtime.Host(typeof(Stuck), "pp-stuck"); // lease 15 s: the watchdog checks every 1 s
        PartitionProcessor processor = await StartAsync(host, "pp-stuck-in");
        await Stuck.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        runtime.LeaseClock.Advance(TimeSpan.FromSeconds(13.5)); // 1.5 s before the local expiry: no longer safe to run
        await processor.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Null(runtime.Checkpoint("pp-stuck", "pp-stuck-in", 0)); // aborted: nothing checkpointed
    }

    /// <summary>Issue 13: a re-run of an input (a crash before its checkpoint, a rebalance) emits outputs with the ids of the first run.</summary>
    [Fact]
    public async Task A_re_run_emits_the_same_output_ids_as_the_first_run()
    {
        runtime.Log.CreateStream("pp-text-in", 2);
        runtime.Log.CreateStream("pp-text-out", 1);
        runtime.Produce("pp-text-in", ["x", "y"], key: "k");
        int partition = PartitionOf("k", 2);
        await RunUntilCheckpointedAsync(runtime.Host(typeof(Texts), "pp-text"), "pp-text-in", 2, "the first run checkpointed", partition: partition);
        var lostCheckpoints = new InMemoryPartitions(runtime.LeaseClock); // the first run's checkpoint never landed: everything runs again
        await RunUntilCheckpointedAsync(runtime.Host(typeof(Texts), "pp-text", partitions: lostCheckpoints), "pp-text-in", 2, "the re-run checkpointed", lostCheckpoints, partition);

        StoredEvent[] outputs = [.. runtime.Log.Events("pp-text-out")];
        Assert.Equal(["x-1", "x-2", "y-1", "y-2", "x-1", "x-2", "y-1", "y-2"], outputs.Select(e => e.Event.Data!.ToString()));
        string[] ids = outputs.Select(e => e.Event.Id).ToArray();
        Assert.Equal(ids[..4], ids[4..]); // the re-run's outputs carry the first run's ids
        Assert.Equal(4, ids[..4].Distinct().Count()); // one id per input and output index
    }

    /// <summary>
    /// Issue 13: outputs a re-run appends again (the first run's checkpoint was lost) are in the log twice, but a
    /// downstream function is invoked once per output, and its lag still reaches 0.
    /// </summary>
    [Fact]
    public async Task A_downstream_function_sees_each_output_once_after_the_upstream_re_ran_its_inputs()
    {
        runtime.Log.CreateStream("pp-text-in", 1);
        runtime.Log.CreateStream("pp-text-out", 1);
        runtime.Produce("pp-text-in", ["x", "y"], key: "k");
        await RunUntilCheckpointedAsync(runtime.Host(typeof(Texts), "pp-text"), "pp-text-in", 2, "the first run checkpointed");
        var lostCheckpoints = new InMemoryPartitions(runtime.LeaseClock);
        await RunUntilCheckpointedAsync(runtime.Host(typeof(Texts), "pp-text", partitions: lostCheckpoints), "pp-text-in", 2, "the re-run checkpointed", lostCheckpoints);
        Assert.Equal(8, runtime.Log.Events("pp-text-out").Count); // both runs' appends landed

        await RunUntilCheckpointedAsync(runtime.Host(typeof(TextReader), "pp-text-reader"), "pp-text-out", 8, "the reader passed every copy");

        Assert.Equal(["x-1", "x-2", "y-1", "y-2"], TextReader.Seen);
        Assert.Equal(0, runtime.Lag("pp-text-reader", "pp-text-out"));
    }

    /// <summary>Issue 13: resetting a group to replay its inputs writes outputs readers deliver again (a new writer generation), not duplicates they skip.</summary>
    [Fact]
    public async Task A_replay_after_a_reset_is_delivered_downstream_again()
    {
        runtime.Log.CreateStream("pp-text-in", 1);
        runtime.Log.CreateStream("pp-text-out", 1);
        runtime.Produce("pp-text-in", ["x"], key: "k");
        await RunUntilCheckpointedAsync(runtime.Host(typeof(Texts), "pp-text"), "pp-text-in", 1, "the first run checkpointed");
        runtime.LeaseClock.Advance(TimeSpan.FromSeconds(16)); // the stopped run's lease expires: a reset is refused while it is held
        await runtime.Store("admin").ResetAsync("pp-text", "pp-text-in", 0, 0, CancellationToken.None);
        await InMemoryRuntime.WaitUntilAsync(() => runtime.Checkpoint("pp-text", "pp-text-in", 0) == 0, "the reset landed");
        PartitionProcessor replay = await StartAsync(runtime.Host(typeof(Texts), "pp-text"), "pp-text-in");
        await InMemoryRuntime.WaitUntilAsync(() => runtime.Log.Events("pp-text-out").Count == 4, "the replay wrote its outputs");
        replay.Stop();
        await replay.Completion;

        await RunUntilCheckpointedAsync(runtime.Host(typeof(TextReader), "pp-text-reader"), "pp-text-out", 4, "the reader read both runs");

        Assert.Equal(["x-1", "x-2", "x-1", "x-2"], TextReader.Seen);
    }

    /// <summary>Issue 19: a chunk's outputs are appended together, one append per output partition per chunk, not one per output event.</summary>
    [Fact]
    public async Task A_chunk_s_outputs_are_appended_once_not_once_per_event()
    {
        runtime.Log.CreateStream("pp-count-in", 1);
        runtime.Log.CreateStream("pp-count-out", 2);
        runtime.Produce("pp-count-in", Enumerable.Range(0, 10).Select(i => $"c{i}")); // one stored batch: one chunk

        await RunUntilCheckpointedAsync(runtime.Host(typeof(Counted), "pp-count"), "pp-count-in", 10, "the chunk checkpointed");

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"c{i}-out").Order(StringComparer.Ordinal), runtime.Log.Events("pp-count-out").Select(e => e.Event.Data!.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(1, runtime.Log.AppendsTo("pp-count-out")); // was 10: one per output event
    }

    /// <summary>An output over the size limit is still the handler's failure (retried, then dead-lettered), and the chunk's other outputs are written.</summary>
    [Fact]
    public async Task An_output_over_the_limit_fails_its_invocation_and_the_others_are_written()
    {
        runtime.Log.CreateStream("pp-count-in", 1);
        runtime.Log.CreateStream("pp-count-out", 1);
        runtime.Log.Append("pp-count-in", [new LogEvent("a", "/t", "t"), new LogEvent("b", "/t", "big"), new LogEvent("c", "/t", "t")]);

        await RunUntilCheckpointedAsync(runtime.Host(typeof(Counted), "pp-count"), "pp-count-in", 3, "the chunk checkpointed");

        Assert.Equal(["a-out", "c-out"], runtime.Log.Events("pp-count-out").Select(e => e.Event.Data!.ToString()));
        StoredEvent letter = Assert.Single(runtime.Log.Events("pp-count-in.pp-count.deadletter"));
        Assert.Equal(("b", 2), (letter.Event.Id, (int)letter.Event.Extensions["dlqattempts"]));
        Assert.Contains("limit", letter.Event.Extensions["dlqerror"].ToString(), StringComparison.Ordinal);
    }

    /// <summary>A stop in the middle of a chunk writes the outputs of what was handled and checkpoints exactly that: nothing lost, nothing past it.</summary>
    [Fact]
    public async Task Stopping_in_the_middle_of_a_chunk_writes_what_was_handled_and_checkpoints_exactly_that()
    {
        runtime.Log.CreateStream("pp-count-in", 1);
        runtime.Log.CreateStream("pp-count-out", 1);
        runtime.Produce("pp-count-in", Enumerable.Range(0, 50).Select(i => $"s{i}"));
        Counted.Delay = TimeSpan.FromMilliseconds(5);
        PartitionProcessor processor = await StartAsync(runtime.Host(typeof(Counted), "pp-count"), "pp-count-in");

        await InMemoryRuntime.WaitUntilAsync(() => Counted.Handled.Count >= 5, "some events handled");
        processor.Stop();
        await processor.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        int handled = Counted.Handled.Count;
        Assert.InRange(handled, 5, 49); // stopped inside the chunk
        Assert.Equal(Counted.Handled.Select(id => id + "-out"), runtime.Log.Events("pp-count-out").Select(e => e.Event.Data!.ToString()));
        Assert.Equal(handled, runtime.Checkpoint("pp-count", "pp-count-in", 0));
    }

    /// <summary>Runs the partition until the group's checkpoint reaches <paramref name="offset"/>, then stops it gracefully.</summary>
    private async Task<PartitionProcessor> RunUntilCheckpointedAsync(FunctionHost host, string stream, long offset, string what, InMemoryPartitions? partitions = null, int partition = 0)
    {
        PartitionProcessor processor = await StartAsync(host, stream, partition);
        await InMemoryRuntime.WaitUntilAsync(() => (partitions ?? runtime.Partitions).CheckpointOf(host.Function.ConsumerGroup, stream, partition) == offset, what);
        processor.Stop();
        await processor.Completion;
        return processor;
    }

    private static int PartitionOf(string key, int partitions) => KeyPartitioner.GetPartition(key, partitions);

    private static async Task<PartitionProcessor> StartAsync(FunctionHost host, string stream, int partition = 0)
    {
        PartitionLease lease = await host.Checkpoints.TryAcquireAsync(host.Function.ConsumerGroup, stream, partition, host.Options.LeaseDuration, CancellationToken.None)
            ?? throw new InvalidOperationException("The partition is leased already.");
        return PartitionProcessor.Start(host, lease);
    }
}
