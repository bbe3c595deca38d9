using System.Diagnostics;
using System.Globalization;
using FaasEvents.Log;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Runs one function on one owned partition: reads in offset order, invokes (per event or per batch), retries,
/// dead-letters, and checkpoints after success. Stops gracefully (finish in-flight, checkpoint) or aborts
/// (lease lost: stop at once, no checkpoint).
/// </summary>
internal sealed class PartitionProcessor
{
    private readonly FunctionHost host;
    private readonly int partition;
    /// <summary>How long a partition with an unchecked tail stays idle before that tail is checkpointed.</summary>
    private static readonly TimeSpan IdleFlushDelay = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource stop = new();
    private readonly CancellationTokenSource abort = new();
    private readonly CancellationTokenSource cutShort = new();
    private readonly CancellationTokenSource ended = new(); // the processor's work is over: ends the lease watchdog
    private readonly CancellationTokenSource invocations; // what a handler's CancellationToken follows: abort or cutShort
    private readonly Prometheus.Counter.Child handled;
    private readonly Prometheus.Counter.Child failures;
    private readonly Prometheus.Counter.Child deadLettered;
    private readonly Prometheus.Histogram.Child duration;
    private readonly WriteStall stall;
    private readonly MaterializerPartition? materializer;
    private readonly SemaphoreSlim progress = new(1, 1); // a materializer's commit sees table, offset and position together
    private long checkpointed = -1;
    private LogPosition? nextPosition;
    private PartitionLease lease;

    private PartitionProcessor(FunctionHost host, PartitionLease lease)
    {
        this.host = host;
        this.lease = lease;
        partition = lease.Partition;
        string[] labels = [host.Function.Name, host.Function.Stream, host.Function.ConsumerGroup, partition.ToString(CultureInfo.InvariantCulture)];
        handled = FunctionMetrics.EventsHandled.WithLabels(labels);
        failures = FunctionMetrics.Failures.WithLabels(labels);
        deadLettered = FunctionMetrics.DeadLettered.WithLabels(labels);
        duration = FunctionMetrics.HandlerDuration.WithLabels(host.Function.Name);
        stall = new WriteStall(FunctionMetrics.PartitionStalled.WithLabels(labels));
        invocations = CancellationTokenSource.CreateLinkedTokenSource(abort.Token, cutShort.Token);
        if (host.Function.StateType is { } stateType)
        {
            materializer = new MaterializerPartition(host, partition, new MaterializedTable(stateType, host.Serializer));
        }
    }

    public int Partition => partition;

    /// <summary>Completes when the processor has ended (after <see cref="Start"/>).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Creates the processor of one leased partition and starts it.</summary>
    public static PartitionProcessor Start(FunctionHost host, PartitionLease lease)
    {
        var processor = new PartitionProcessor(host, lease);
        processor.Completion = Task.Run(processor.RunAsync);
        return processor;
    }

    /// <summary>True once this partition halted: the stop policy after a poison event, or a dead letter that can never be written.</summary>
    public bool Halted => HaltReason is not null;

    /// <summary>Why the partition halted (null while it has not).</summary>
    public string? HaltReason { get; private set; }

    /// <summary>A runtime write that keeps failing (null while writes succeed).</summary>
    public PartitionStall? Stall => stall.Current;

    /// <summary>Why the processor ended with an error (null: still running, stopped, or lost its lease).</summary>
    public string? Failure { get; private set; }

    /// <summary>Next offset to handle.</summary>
    public long NextOffset { get; private set; } = -1;

    public PartitionLease Lease
    {
        get => Volatile.Read(ref lease);
        set => Volatile.Write(ref lease, value);
    }

    /// <summary>Finish the in-flight invocation, checkpoint, and end.</summary>
    public void Stop() => stop.Cancel();

    /// <summary>
    /// The shutdown budget is running out: cancel the in-flight invocation (its event stays unchecked for the next
    /// owner; it is neither retried nor dead-lettered) so the partition can checkpoint what it handled and end.
    /// </summary>
    public void CancelInvocations()
    {
        stop.Cancel();
        cutShort.Cancel();
    }

    /// <summary>The lease is gone: end at once without checkpointing.</summary>
    public void Abort()
    {
        abort.Cancel();
        stop.Cancel();
    }

    private ILogger Log => host.Logger;

    /// <summary>
    /// Stops the processor once its lease's local expiry passes without a renewal (storage unreachable, renewals failing,
    /// or no longer renewed because it is stopping or being handed over): by then another instance may own the partition,
    /// so this one must not handle or checkpoint anything more, and its in-flight invocation is cancelled. It watches
    /// until the processor's work is over, not only until a stop is asked for.
    /// </summary>
    private async Task WatchLeaseAsync()
    {
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(Lease.Duration.TotalMilliseconds / 15, 100, 1000));
        while (!ended.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, host.Time, ended.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (host.LeaseClock.GetUtcNow() >= Lease.ExpiresAt)
            {
                Log.LogWarning("{Function}: lease on partition {Partition} of {Stream} was not renewed before it expired ({Expiry:O}); stopping without checkpointing", host.Function.Name, partition, host.Function.Stream, Lease.ExpiresAt);
                Abort();
                return;
            }
        }
    }

    private async Task RunAsync()
    {
        FunctionDefinition fn = host.Function;
        Task committer = Task.CompletedTask;
        Task watchdog = Task.Run(WatchLeaseAsync);
        try
        {
            Checkpoint? cp = await host.Checkpoints.GetCheckpointAsync(fn.ConsumerGroup, fn.Stream, partition, abort.Token);
            if (materializer is not null)
            {
                // The table and the offset it reflects come back together; the checkpoint only lends its position hint.
                long? restored = await materializer.RestoreAsync(abort.Token);
                cp = restored is { } r ? new Checkpoint(fn.ConsumerGroup, fn.Stream, partition, r, default, cp?.NextOffset == r ? cp.Position : null) : null;
                host.Tables[partition] = materializer.Table;
                committer = Task.Run(CommitPeriodicallyAsync);
            }
            else if (host.Options.BatchCheckpointFrequency > 1)
            {
                committer = Task.Run(FlushWhenIdleAsync);
            }

            StartPosition start;
            LogPosition? hint = null;
            if (cp is not null)
            {
                start = StartPosition.FromOffset(cp.NextOffset);
                checkpointed = cp.NextOffset;
                hint = cp.Position; // resume with one ranged read instead of scanning the segment
            }
            else if (host.Options.InitialOffset == InitialOffset.Latest)
            {
                // Pin "latest" now, so a restart before the first event does not skip what arrives meanwhile.
                long end = await host.Source.GetEndOffsetAsync(fn.Stream, partition, abort.Token);
                await CheckpointAsync(end);
                start = StartPosition.FromOffset(end);
            }
            else
            {
                start = StartPosition.Earliest;
            }

            Log.LogInformation("{Function}: processing {Stream} partition {Partition} from {Start}", fn.Name, fn.Stream, partition, start);
            var read = new ReadOptions { From = start, Follow = true, PollInterval = host.Options.PollInterval, StartAtEarliestIfTruncated = true, PositionHint = hint };
            int sinceCheckpoint = 0;
            await foreach (EventBlock stored in host.Source.ReadAsync(fn.Stream, partition, read, stop.Token))
            {
                IReadOnlyList<StoredEvent> block = stored.Events;
                for (int i = 0; i < block.Count && !stop.IsCancellationRequested; i += host.Options.MaxBatchSize)
                {
                    IReadOnlyList<StoredEvent> chunk = Slice(block, i, host.Options.MaxBatchSize);
                    await progress.WaitAsync(abort.Token);
                    try
                    {
                        nextPosition = stored.Start; // while inside this batch, a resume starts at its beginning
                        if (!await HandleChunkAsync(chunk))
                        {
                            return; // halted by policy, or stopping mid-retry: nothing past the last success is checkpointed
                        }

                        NextOffset = chunk[^1].Offset + 1;
                        nextPosition = i + chunk.Count >= block.Count ? stored.End : stored.Start;
                    }
                    finally
                    {
                        progress.Release();
                    }

                    if (materializer is null && ++sinceCheckpoint >= host.Options.BatchCheckpointFrequency)
                    {
                        // A storage failure here is waited out, not a reason to restart the partition and handle again.
                        await InfrastructureRetry.RunAsync(_ => CheckpointAsync(NextOffset), $"{fn.Name}: checkpoint of {fn.Stream} partition {partition} at {NextOffset}", Log, host.Time, stall, stop.Token);
                        sinceCheckpoint = 0;
                    }
                }

                if (stop.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.LeaseLost)
        {
            Log.LogWarning("{Function}: lost partition {Partition} of {Stream}; stopping it without checkpointing", fn.Name, partition, fn.Stream);
            abort.Cancel();
        }
        catch (Exception ex)
        {
            Failure = ex.Message.Split('\n')[0];
            Log.LogError(ex, "{Function}: partition {Partition} of {Stream} failed at offset {Offset}; it will be restarted", fn.Name, partition, fn.Stream, NextOffset);
        }
        finally
        {
            stop.Cancel(); // ends the periodic committer
            ended.Cancel(); // and the lease watchdog: nothing more is invoked
            await committer;
            await watchdog;
            await FinalCheckpointAsync();
            stall.Succeeded(); // a processor that ended reports nothing more
            if (materializer is not null)
            {
                host.Tables.TryRemove(new KeyValuePair<int, MaterializedTable>(partition, materializer.Table));
            }
        }
    }

    /// <summary>A materializer persists its table within <see cref="EventLogHostOptions.StateCommitInterval"/> of handling events, busy or idle.</summary>
    private Task CommitPeriodicallyAsync() => EveryAsync(
        host.Options.StateCommitInterval,
        async () =>
        {
            if (NextOffset > checkpointed)
            {
                await CheckpointAsync(NextOffset); // on failure the changes stay pending and are retried
            }
        },
        "committing state");

    /// <summary>
    /// With batchCheckpointFrequency above 1, checkpoints the unchecked tail once the partition made no progress for
    /// <see cref="IdleFlushDelay"/>: an idle group's lag reaches 0, so KEDA can scale it to zero.
    /// </summary>
    private Task FlushWhenIdleAsync()
    {
        long seen = -1;
        return EveryAsync(
            IdleFlushDelay,
            async () =>
            {
                await progress.WaitAsync(stop.Token);
                try
                {
                    long next = NextOffset;
                    if (next == seen && next > checkpointed)
                    {
                        await CheckpointAsync(next);
                    }

                    seen = next;
                }
                finally
                {
                    progress.Release();
                }
            },
            "checkpointing its idle tail");
    }

    /// <summary>Runs <paramref name="tick"/> every <paramref name="period"/> until the processor stops; a lost lease aborts it, other failures are retried next time.</summary>
    private async Task EveryAsync(TimeSpan period, Func<Task> tick, string what)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, host.Time, stop.Token);
                await tick();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.LeaseLost)
            {
                Log.LogWarning("{Function}: lost partition {Partition} of {Stream} while {What}; stopping it", host.Function.Name, partition, host.Function.Stream, what);
                Abort();
                return;
            }
            catch (Exception ex)
            {
                Log.LogWarning("{Function}: {What} of partition {Partition} failed ({Error}); retrying", host.Function.Name, what, partition, ex.Message.Split('\n')[0]);
            }
        }
    }

    private async Task FinalCheckpointAsync()
    {
        if (abort.IsCancellationRequested || NextOffset <= checkpointed || NextOffset < 0)
        {
            return;
        }

        try
        {
            await CheckpointAsync(NextOffset);
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "{Function}: final checkpoint of partition {Partition} at {Offset} failed; the next owner resumes from the previous one", host.Function.Name, partition, NextOffset);
        }
    }

    private async Task CheckpointAsync(long next)
    {
        if (materializer is not null)
        {
            await progress.WaitAsync(CancellationToken.None);
            try
            {
                next = Math.Max(next, NextOffset);
                if (next > checkpointed)
                {
                    await materializer.CommitAsync(next, nextPosition, Lease, CancellationToken.None);
                    checkpointed = next;
                }
            }
            finally
            {
                progress.Release();
            }

            return;
        }

        // The position is only a hint for the offset it was taken with; the reader checks it before use.
        LogPosition? position = next == NextOffset ? nextPosition : null;
        await host.Checkpoints.UpdateCheckpointAsync(Lease, next, position, CancellationToken.None);
        checkpointed = next;
    }

    /// <summary>Handles a chunk; false means stop processing this partition (halt policy, or a stop/abort during retries).</summary>
    private async Task<bool> HandleChunkAsync(IReadOnlyList<StoredEvent> chunk)
    {
        if (host.Function.Shape.IsBatch)
        {
            return await InvokeWithRetriesAsync(chunk);
        }

        foreach (StoredEvent e in chunk)
        {
            if (stop.IsCancellationRequested)
            {
                return false; // stopping: end after the in-flight invocation, not after the rest of the chunk
            }

            if (!await InvokeWithRetriesAsync([e]))
            {
                return false;
            }

            NextOffset = e.Offset + 1;
        }

        return true;
    }

    private async Task<bool> InvokeWithRetriesAsync(IReadOnlyList<StoredEvent> events)
    {
        RetrySettings retry = host.Function.Retry ?? host.Options.Retry;
        Exception? last = null;
        int tries = 0;
        for (int attempt = 0; attempt <= retry.MaxRetryCount; attempt++)
        {
            tries = attempt + 1;
            if (attempt > 0)
            {
                try
                {
                    using var either = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, abort.Token);
                    await Task.Delay(retry.GetDelay(attempt), host.Time, either.Token);
                }
                catch (OperationCanceledException)
                {
                    return false; // shutting down between retries: the event stays unchecked, the next owner retries it
                }
            }

            try
            {
                await host.Concurrency.WaitAsync(stop.Token); // stopping while waiting for a slot: this event was not started
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            if (host.LeaseClock.GetUtcNow() >= Lease.ExpiresAt)
            {
                // Past the lease's expiry by this instance's own clock (e.g. resumed after a pause): another instance
                // may own the partition now, so nothing more starts here.
                host.Concurrency.Release();
                Log.LogWarning("{Function}: lease on partition {Partition} of {Stream} expired ({Expiry:O}) before offset {Offset} could start; stopping without checkpointing", host.Function.Name, partition, host.Function.Stream, Lease.ExpiresAt, events[0].Offset);
                Abort();
                return false;
            }

            long started = Stopwatch.GetTimestamp();
            InvocationResult result = default;
            bool invoked = false;
            try
            {
                result = await host.Invoker.InvokeAsync(events, partition, attempt, retry.MaxRetryCount, invocations.Token, materializer?.Table);
                invoked = true;
            }
            catch (Exception) when (cutShort.IsCancellationRequested && !abort.IsCancellationRequested)
            {
                Log.LogWarning("{Function}: the invocation for {Stream} partition {Partition} offset {Offset} was cancelled: the shutdown budget ran out (the event stays unchecked for the next owner)", host.Function.Name, host.Function.Stream, partition, events[0].Offset);
                return false;
            }
            catch (UnkeyedEntityException ex)
            {
                last = ex; // retrying cannot add a key
                failures.Inc();
                break;
            }
            catch (Exception ex) when (!abort.IsCancellationRequested)
            {
                last = ex;
                failures.Inc();
                Log.LogWarning(ex, "{Function}: try {Attempt} of {Tries} failed for {Stream} partition {Partition} offset {Offset} (event {Id})", host.Function.Name, attempt + 1, retry.MaxRetryCount + 1, host.Function.Stream, partition, events[0].Offset, events[0].Event.Id);
            }
            finally
            {
                duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                host.Concurrency.Release();
            }

            if (!invoked)
            {
                continue;
            }

            if (result.Outputs.Count > 0)
            {
                try
                {
                    // Storage failing here is not the handler's failure: wait it out (until the lease is lost or the
                    // shutdown budget runs out) instead of running the handler again or dead-lettering an event it
                    // handled. A plain stop waits too: the outputs are part of the in-flight invocation, and giving up
                    // on an append already under way would leave them written with the event unchecked (a re-run).
                    IReadOnlyList<LogEvent> outputs = result.Outputs;
                    await InfrastructureRetry.RunAsync(ct => host.AppendOutputsAsync(outputs, ct), $"{host.Function.Name}: appending the outputs of {host.Function.Stream} partition {partition} offset {events[0].Offset}", Log, host.Time, stall, invocations.Token);
                }
                catch (OperationCanceledException) when (invocations.IsCancellationRequested)
                {
                    return false; // lease lost, or the shutdown budget ran out while storage is down: the event stays unchecked for the next owner
                }
                catch (EventLogException ex) when (!abort.IsCancellationRequested && ex.Reason != EventLogErrorReason.LeaseLost)
                {
                    last = ex; // what the handler returned cannot be written (e.g. over the size limit): its failure
                    failures.Inc();
                    Log.LogWarning(ex, "{Function}: try {Attempt} of {Tries}: the outputs for {Stream} partition {Partition} offset {Offset} cannot be written", host.Function.Name, attempt + 1, retry.MaxRetryCount + 1, host.Function.Stream, partition, events[0].Offset);
                    continue;
                }
            }

            // Only now, with the outputs written, does the fold take effect: a retry never sees its own update.
            materializer?.Table.Set(events[0].Event.PartitionKey!, result.State);
            handled.Inc(events.Count);
            return true;
        }

        if (events.Count > 1 && last is not UnkeyedEntityException && !stop.IsCancellationRequested)
        {
            // A batch that keeps failing: halve it until the failing event is alone, so only the poison event is
            // dead-lettered (or halts the partition) and the rest are handled. The halves run in offset order.
            Log.LogWarning("{Function}: a batch of {Count} events from {Stream} partition {Partition} at offset {Offset} failed {Tries} times; retrying it in halves to isolate the failing event(s)", host.Function.Name, events.Count, host.Function.Stream, partition, events[0].Offset, tries);
            int half = events.Count / 2;
            if (!await InvokeWithRetriesAsync(events.Take(half).ToList()))
            {
                return false;
            }

            NextOffset = events[half - 1].Offset + 1; // the first half is done: a stop before the second keeps it
            return await InvokeWithRetriesAsync(events.Skip(half).ToList());
        }

        if (host.Options.DeadLetterMode == DeadLetterMode.Stop)
        {
            HaltReason = $"offset {events[0].Offset} failed {tries} tries (deadLetter.mode = stop): {last!.Message.Split('\n')[0]}";
            Log.LogCritical(last, "{Function}: {Stream} partition {Partition} is STOPPED at offset {Offset} after {Tries} tries (deadLetter.mode = stop). Fix the cause and restart the app.", host.Function.Name, host.Function.Stream, partition, events[0].Offset, tries);
            return false;
        }

        try
        {
            // Retried until written, but a stopping app does not wait for it: the event stays unchecked for the next owner.
            using var either = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, abort.Token);
            await host.DeadLetters.WriteAsync(events, partition, last!, tries, stall, either.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex) when (!InfrastructureRetry.IsInfrastructure(ex) && ex is not OperationCanceledException)
        {
            // Retrying cannot help: halt here, unchecked, and say why, instead of retrying forever behind a 200.
            HaltReason = $"the dead letter for offset {events[0].Offset} cannot be written: {ex.Message.Split('\n')[0]}";
            Log.LogCritical("{Function}: {Stream} partition {Partition} is STOPPED: {Reason}. Fix the cause (or move the event aside) and restart the app.", host.Function.Name, host.Function.Stream, partition, HaltReason);
            return false;
        }

        deadLettered.Inc(events.Count);
        return true;
    }

    private static IReadOnlyList<StoredEvent> Slice(IReadOnlyList<StoredEvent> block, int start, int count)
    {
        if (start == 0 && block.Count <= count)
        {
            return block;
        }

        int n = Math.Min(count, block.Count - start);
        var slice = new StoredEvent[n];
        for (int i = 0; i < n; i++)
        {
            slice[i] = block[start + i];
        }

        return slice;
    }
}
