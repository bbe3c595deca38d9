using System.Diagnostics;
using FaasEvents.Functions.Telemetry;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Invokes a function for the events of one chunk: each try waits for a concurrency slot and checks the lease; a
/// failed try is retried by the function's policy; a batch that keeps failing is halved until the failing event is
/// alone; an event that still fails is dead-lettered or halts the partition (deadLetter.mode). A handler's outputs
/// are checked when it returns (an output that can never be written is its failure) and kept until the caller flushes
/// them (<see cref="FlushAsync"/>: once per block read from storage, or sooner, see <see cref="FlushDue"/>), then
/// appended together, one append per output partition, before the partition's next offset moves past the events they
/// belong to (storage failures waited out, not retried as the handler's). A materializer's outputs are appended per
/// invocation, before its fold takes effect.
/// </summary>
internal sealed class InvocationRetrier(FunctionHost host, PartitionRun run, PartitionMetrics metrics, WriteStall stall, MaterializedTable? table)
{
    /// <summary>
    /// Handled events wait this long at most (checked between chunks) for their outputs to be appended and the next offset
    /// to move past them, so their checkpoint: a function with few or no outputs checkpoints within it too.
    /// </summary>
    internal static readonly TimeSpan MaxOutputDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>Outputs of this many bytes (data) at most are kept before they are appended.</summary>
    internal const long MaxPendingBytes = 1024 * 1024;

    private readonly List<(LogEvent Event, WriterMark Mark)> pending = [];
    private bool holdsSlot; // one of maxConcurrentPartitions, kept from one invocation to the next of a chunk while others are free
    private long handledUpTo = -1;
    private long pendingBytes;
    private long? unflushedSince; // when the first event not yet flushed was taken

    /// <summary>
    /// True when what was handled should be flushed now rather than with the rest of the block: the kept outputs hold
    /// <see cref="MaxPendingBytes"/>, or the first event not yet flushed was taken <see cref="MaxOutputDelay"/> ago.
    /// </summary>
    public bool FlushDue => unflushedSince is { } since && (pendingBytes >= MaxPendingBytes || host.Time.GetElapsedTime(since) >= MaxOutputDelay);

    /// <summary>
    /// Handles a chunk and keeps its outputs for the next <see cref="FlushAsync"/>. A chunk that does not complete (halt
    /// policy, a stop/abort during retries) flushes what was handled before it ended and returns false: stop processing
    /// this partition.
    /// </summary>
    public async Task<bool> HandleChunkAsync(IReadOnlyList<StoredEvent> chunk)
    {
        unflushedSince ??= host.Time.GetTimestamp();
        bool completed;
        try
        {
            completed = await HandleEventsAsync(chunk);
        }
        finally
        {
            ReleaseSlot(); // between chunks (reading, flushing) other partitions may run
        }

        if (completed)
        {
            return true;
        }

        await FlushAsync();
        return false;
    }

    /// <summary>True when events were handled whose outputs or next offset wait for a flush.</summary>
    public bool Unflushed => pending.Count > 0 || handledUpTo > run.NextOffset;

    /// <summary>Everything below <paramref name="offset"/> was handled or passed over (copies): the next flush moves the next offset there.</summary>
    public void HandledThrough(long offset)
    {
        unflushedSince ??= host.Time.GetTimestamp();
        handledUpTo = Math.Max(handledUpTo, offset);
    }

    private async Task<bool> HandleEventsAsync(IReadOnlyList<StoredEvent> chunk)
    {
        if (host.Function.Shape.IsBatch)
        {
            return await InvokeWithRetriesAsync(chunk);
        }

        foreach (StoredEvent e in chunk)
        {
            if (run.IsStopping)
            {
                return false; // stopping: end after the in-flight invocation, not after the rest of the chunk
            }

            if (!await InvokeWithRetriesAsync([e]))
            {
                return false;
            }

            handledUpTo = e.Offset + 1;
        }

        return true;
    }

    /// <summary>
    /// Appends the kept outputs (one append per output partition), then moves the next offset past the events they belong
    /// to. On false the kept outputs are gone and the next offset stays before their events: the caller must stop this
    /// run (the next owner handles those events again), never carry on and flush later events past them.
    /// </summary>
    public async Task<bool> FlushAsync()
    {
        long upTo = handledUpTo;
        handledUpTo = -1;
        pendingBytes = 0;
        unflushedSince = null;
        if (pending.Count > 0)
        {
            // In input order (a batch function may add outputs for its inputs in any order): readers deliver one writer's
            // sequences in increasing order only, so a smaller sequence after a larger one would be taken for a copy.
            List<(LogEvent Event, WriterMark Mark)> outputs = [.. pending.OrderBy(p => p.Mark.Sequence)];
            pending.Clear();
            if (run.IsAborted)
            {
                return false; // the lease is gone: the next owner runs these events again and writes their outputs
            }

            if (!await AppendOutputsAsync(outputs.Select(o => o.Event).ToList(), outputs.Select(o => o.Mark).ToList(), $"{host.Function.Name}: appending {outputs.Count} output(s) of {host.Function.Stream} partition {run.Partition} up to offset {upTo - 1}"))
            {
                return false;
            }
        }

        if (upTo > run.NextOffset)
        {
            run.NextOffset = upTo;
        }

        return true;
    }

    /// <summary>
    /// Appends outputs, waiting out storage failures (not the handler's: it is not run again), until the lease is lost
    /// or the shutdown budget runs out (false: their events stay unchecked for the next owner). A plain stop waits too:
    /// giving up on an append already under way would leave the outputs written with their events unchecked (a re-run).
    /// </summary>
    private async Task<bool> AppendOutputsAsync(IReadOnlyList<LogEvent> outputs, IReadOnlyList<WriterMark> marks, string what)
    {
        try
        {
            await InfrastructureRetry.RunAsync(ct => host.AppendOutputsAsync(outputs, marks, ct), what, host.Logger, host.Time, stall, run.Invocations);
            return true;
        }
        catch (OperationCanceledException) when (run.Invocations.IsCancellationRequested)
        {
            return false;
        }
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
                ReleaseSlot(); // nobody runs here while the retry waits
                try
                {
                    using var either = CancellationTokenSource.CreateLinkedTokenSource(run.Stopping, run.Aborted);
                    await Task.Delay(retry.GetDelay(attempt), host.Time, either.Token);
                }
                catch (OperationCanceledException)
                {
                    return false; // shutting down between retries: the event stays unchecked, the next owner retries it
                }
            }

            if (!await TakeSlotAsync())
            {
                return false; // stopping while waiting for a slot: this event was not started
            }

            if (host.LeaseClock.GetUtcNow() >= LeaseWatchdog.SafeUntil(run.Lease))
            {
                // Past the lease's expiry by this instance's own clock (e.g. resumed after a pause): another instance
                // may own the partition now, so nothing more starts here.
                ReleaseSlot();
                host.Logger.LogWarning("{Function}: lease on partition {Partition} of {Stream} expired ({Expiry:O}) before offset {Offset} could start; stopping without checkpointing", host.Function.Name, run.Partition, host.Function.Stream, run.Lease.ExpiresAt, events[0].Offset);
                run.Abort();
                return false;
            }

            if (attempt > 0)
            {
                metrics.Retried();
            }

            ColdStart.Invoking(host.Function.Name, metrics, events[0], host.Time);
            long started = Stopwatch.GetTimestamp();
            Activity? span = FunctionActivities.StartProcess(host.Function, run.Partition, events, attempt);
            InvocationResult result = default;
            bool invoked = false;
            Exception? error = null;
            try
            {
                result = await host.Invoker.InvokeAsync(events, run.Partition, run.Writers!.Outputs, attempt, retry.MaxRetryCount, run.Invocations, table);
                invoked = true;
            }
            catch (Exception ex) when (run.IsCutShort && !run.IsAborted)
            {
                error = ex;
                host.Logger.LogWarning("{Function}: the invocation for {Stream} partition {Partition} offset {Offset} was cancelled: the shutdown budget ran out (the event stays unchecked for the next owner)", host.Function.Name, host.Function.Stream, run.Partition, events[0].Offset);
                return false;
            }
            catch (UnkeyedEntityException ex)
            {
                last = error = ex; // retrying cannot add a key
                metrics.Failed();
                break;
            }
            catch (Exception ex) when (!run.IsAborted)
            {
                last = error = ex;
                metrics.Failed();
                host.Logger.LogWarning(ex, "{Function}: try {Attempt} of {Tries} failed for {Stream} partition {Partition} offset {Offset} (event {Id})", host.Function.Name, attempt + 1, retry.MaxRetryCount + 1, host.Function.Stream, run.Partition, events[0].Offset, events[0].Event.Id);
            }
            finally
            {
                metrics.Invoked(Stopwatch.GetElapsedTime(started).TotalSeconds, invoked ? null : error ?? new OperationCanceledException());
                if (!invoked)
                {
                    FunctionActivities.Failed(span, error ?? new OperationCanceledException());
                }

                span?.Dispose();
                if (!invoked || host.Concurrency.CurrentCount == 0)
                {
                    // A failure's retry waits without it; with every slot taken another partition may be waiting for one,
                    // so partitions take turns per invocation. Otherwise the next event of the chunk keeps it (no lock).
                    ReleaseSlot();
                }
            }

            if (!invoked)
            {
                continue;
            }

            if (result.Outputs.Count > 0)
            {
                try
                {
                    // An output the stream's contract refuses (its schema, its owner) is known now, not at the chunk's append.
                    await host.CheckOutputsAsync(result.Outputs, run.Invocations);
                    if (table is null)
                    {
                        foreach (LogEvent output in result.Outputs)
                        {
                            output.CheckWritable(); // an output that can never be written is the handler's failure now, not the chunk's later
                        }

                        pending.AddRange(result.Outputs.Zip(result.Marks)); // appended with the rest of the block's
                        pendingBytes += result.Outputs.Sum(o => (long)(o.Data?.ToMemory().Length ?? 0));
                    }
                    else
                    {
                        ReleaseSlot(); // the append waits for storage
                        if (!await AppendOutputsAsync(result.Outputs, result.Marks, $"{host.Function.Name}: appending the outputs of {host.Function.Stream} partition {run.Partition} offset {events[0].Offset}"))
                        {
                            return false;
                        }
                    }
                }
                catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.NotStreamOwner && !run.IsAborted)
                {
                    // Not the handler's fault and not this event's: no retry or dead letter helps until ownership changes.
                    run.Halt($"outputs refused: {ex.Message.Split('\n')[0]}");
                    host.Logger.LogCritical("{Function}: {Stream} partition {Partition} is STOPPED at offset {Offset}: {Reason}. Restart the app once it may write its output stream.", host.Function.Name, host.Function.Stream, run.Partition, events[0].Offset, run.HaltReason);
                    return false;
                }
                catch (EventLogException ex) when (!run.IsAborted && ex.Reason is not (EventLogErrorReason.LeaseLost or EventLogErrorReason.StorageFailure))
                {
                    last = ex; // what the handler returned cannot be written (e.g. over the size limit, or not matching the stream's schema): its failure
                    metrics.Failed();
                    host.Logger.LogWarning(ex, "{Function}: try {Attempt} of {Tries}: the outputs for {Stream} partition {Partition} offset {Offset} cannot be written", host.Function.Name, attempt + 1, retry.MaxRetryCount + 1, host.Function.Stream, run.Partition, events[0].Offset);
                    continue;
                }
            }

            // Only now, with the outputs written, does the fold take effect: a retry never sees its own update.
            table?.Set(events[0].Event.PartitionKey!, result.State, events[0].Offset);
            metrics.Handled(events.Count);
            return true;
        }

        ReleaseSlot(); // what follows (halves, a dead letter, a halt) waits for storage or ends the run
        if (events.Count > 1 && last is not UnkeyedEntityException && !run.IsStopping)
        {
            // A batch that keeps failing: halve it until the failing event is alone, so only the poison event is
            // dead-lettered (or halts the partition) and the rest are handled. The halves run in offset order.
            host.Logger.LogWarning("{Function}: a batch of {Count} events from {Stream} partition {Partition} at offset {Offset} failed {Tries} times; retrying it in halves to isolate the failing event(s)", host.Function.Name, events.Count, host.Function.Stream, run.Partition, events[0].Offset, tries);
            int half = events.Count / 2;
            if (!await InvokeWithRetriesAsync(events.Take(half).ToList()))
            {
                return false;
            }

            handledUpTo = events[half - 1].Offset + 1; // the first half is done: a stop before the second keeps it
            return await InvokeWithRetriesAsync(events.Skip(half).ToList());
        }

        if (host.Options.DeadLetterMode == DeadLetterMode.Stop)
        {
            run.Halt($"offset {events[0].Offset} failed {tries} tries (deadLetter.mode = stop): {last!.Message.Split('\n')[0]}");
            host.Logger.LogCritical(last, "{Function}: {Stream} partition {Partition} is STOPPED at offset {Offset} after {Tries} tries (deadLetter.mode = stop). Fix the cause and restart the app.", host.Function.Name, host.Function.Stream, run.Partition, events[0].Offset, tries);
            return false;
        }

        try
        {
            // Retried until written, but a stopping app does not wait for it: the event stays unchecked for the next owner.
            using var either = CancellationTokenSource.CreateLinkedTokenSource(run.Stopping, run.Aborted);
            await host.DeadLetters.WriteAsync(events, run.Partition, run.Writers!.DeadLetters, last!, tries, stall, either.Token);
        }
        catch (OperationCanceledException) when (run.IsStopping)
        {
            return false;
        }
        catch (Exception ex) when (!InfrastructureRetry.IsInfrastructure(ex) && ex is not OperationCanceledException)
        {
            // Retrying cannot help: halt here, unchecked, and say why, instead of retrying forever behind a 200.
            run.Halt($"the dead letter for offset {events[0].Offset} cannot be written: {ex.Message.Split('\n')[0]}");
            host.Logger.LogCritical("{Function}: {Stream} partition {Partition} is STOPPED: {Reason}. Fix the cause (or move the event aside) and restart the app.", host.Function.Name, host.Function.Stream, run.Partition, run.HaltReason);
            return false;
        }

        metrics.DeadLettered(events.Count);
        return true;
    }

    /// <summary>Takes one of the instance's <c>maxConcurrentPartitions</c> slots unless this partition holds one already; false when stopping.</summary>
    private async ValueTask<bool> TakeSlotAsync()
    {
        if (holdsSlot)
        {
            return true; // the next event of the same chunk, while other slots were free: no lock on the shared semaphore
        }

        try
        {
            await host.Concurrency.WaitAsync(run.Stopping);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        holdsSlot = true;
        return true;
    }

    /// <summary>Gives this partition's slot back if it holds one.</summary>
    private void ReleaseSlot()
    {
        if (holdsSlot)
        {
            holdsSlot = false;
            host.Concurrency.Release();
        }
    }
}
