using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Runs one function on one owned partition: restores a materializer's table, finds where to start, reads in offset
/// order and hands chunks to <see cref="InvocationRetrier"/>, checkpointing through <see cref="PartitionCheckpointer"/>
/// while <see cref="LeaseWatchdog"/> guards the lease. Stops gracefully (finish in-flight, checkpoint) or aborts
/// (lease lost: stop at once, no checkpoint). Created and started by <see cref="Start"/>.
/// </summary>
internal sealed class PartitionProcessor
{
    private readonly FunctionHost host;
    private readonly int partition;
    private readonly PartitionRun run;
    private readonly WriteStall stall;
    private readonly MaterializerPartition? materializer;
    private readonly PartitionCheckpointer checkpointer;
    private readonly InvocationRetrier retrier;
    private readonly PartitionMetrics metrics;

    private PartitionProcessor(FunctionHost host, PartitionLease lease)
    {
        this.host = host;
        partition = lease.Partition;
        run = new PartitionRun(lease);
        metrics = new PartitionMetrics(host.Function, partition, host.Time);
        stall = new WriteStall(metrics);
        if (host.Function.StateType is { } stateType)
        {
            materializer = new MaterializerPartition(host, partition, new MaterializedTable(stateType, host.Serializer));
        }

        checkpointer = new PartitionCheckpointer(host, run, materializer, metrics);
        retrier = new InvocationRetrier(host, run, metrics, stall, materializer?.Table);
    }

    public int Partition => partition;

    /// <summary>Completes when the processor has ended (after <see cref="Start"/>).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>True once this partition halted: the stop policy after a poison event, or a dead letter that can never be written.</summary>
    public bool Halted => HaltReason is not null;

    /// <summary>Why the partition halted (null while it has not).</summary>
    public string? HaltReason => run.HaltReason;

    /// <summary>A runtime write that keeps failing (null while writes succeed).</summary>
    public PartitionStall? Stall => stall.Current;

    /// <summary>Why the processor ended with an error (null: still running, stopped, or lost its lease).</summary>
    public string? Failure { get; private set; }

    /// <summary>Next offset to handle.</summary>
    public long NextOffset => run.NextOffset;

    public PartitionLease Lease
    {
        get => run.Lease;
        set => run.Lease = value;
    }

    /// <summary>Creates the processor of one leased partition and starts it.</summary>
    public static PartitionProcessor Start(FunctionHost host, PartitionLease lease)
    {
        var processor = new PartitionProcessor(host, lease);
        processor.Completion = Task.Run(processor.RunAsync);
        return processor;
    }

    /// <summary>Finish the in-flight invocation, checkpoint, and end.</summary>
    public void Stop() => run.Stop();

    /// <summary>
    /// The shutdown budget is running out: cancel the in-flight invocation (its event stays unchecked for the next
    /// owner; it is neither retried nor dead-lettered) so the partition can checkpoint what it handled and end.
    /// </summary>
    public void CancelInvocations() => run.CancelInvocations();

    /// <summary>The lease is gone: end at once without checkpointing.</summary>
    public void Abort() => run.Abort();

    private ILogger Log => host.Logger;

    private async Task RunAsync()
    {
        FunctionDefinition fn = host.Function;
        Task committer = Task.CompletedTask;
        Task watchdog = Task.Run(new LeaseWatchdog(host, run).WatchAsync);
        metrics.Start();
        try
        {
            Checkpoint? cp = await host.Checkpoints.GetCheckpointAsync(fn.ConsumerGroup, fn.Stream, partition, run.Aborted);
            if (materializer is not null)
            {
                // The table and the offset it reflects come back together; the checkpoint only lends its position hint.
                long? restored = await materializer.RestoreAsync(run.Aborted);
                cp = restored is { } r
                    ? new Checkpoint(fn.ConsumerGroup, fn.Stream, partition, r, default, cp?.NextOffset == r ? cp.Position : null) { Writers = cp?.NextOffset == r ? cp.Writers : null, Generation = cp?.Generation ?? 0 }
                    : null;
                host.Tables[partition] = materializer.Table;
            }

            run.Writers = PartitionWriters.For(fn, partition, cp?.Generation ?? 0);
            run.Filter = DuplicateFilter.Restore(cp?.Writers);
            committer = checkpointer.StartBackground();

            StartPosition start;
            LogPosition? hint = null;
            if (cp is not null)
            {
                start = StartPosition.FromOffset(cp.NextOffset);
                checkpointer.Found(cp.NextOffset);
                hint = cp.Position; // resume with one ranged read instead of scanning the segment
            }
            else if (host.Options.InitialOffset == InitialOffset.Latest)
            {
                // Pin "latest" now, so a restart before the first event does not skip what arrives meanwhile.
                long end = await host.Source.GetEndOffsetAsync(fn.Stream, partition, run.Aborted);
                await checkpointer.CheckpointAsync(end);
                start = StartPosition.FromOffset(end);
            }
            else
            {
                start = StartPosition.Earliest;
            }

            Log.LogInformation("{Function}: processing {Stream} partition {Partition} from {Start}", fn.Name, fn.Stream, partition, start);
            // Every stored record: the run filters copies itself (run.Filter), chunk by chunk, so the filter's state always
            // matches what was handled when a checkpoint stores it.
            var read = new ReadOptions { From = start, Follow = true, PollInterval = host.Options.PollInterval, MaxPollInterval = host.Options.MaxPollInterval, StartAtEarliestIfTruncated = true, PositionHint = hint, Deduplicate = false };
            int sinceCheckpoint = 0;
            DateTimeOffset idleSince = host.Time.GetUtcNow(); // everything read so far is handled: the next event wakes the partition
            await foreach (EventBlock stored in host.Source.ReadAsync(fn.Stream, partition, read, run.Stopping))
            {
                IReadOnlyList<StoredEvent> block = stored.Events;
                if (block.Count > 0 && block[0].Timestamp >= idleSince)
                {
                    metrics.Woke(host.Time.GetUtcNow() - block[0].Timestamp, cold: false);
                }

                for (int i = 0; i < block.Count && !run.IsStopping; i += host.Options.MaxBatchSize)
                {
                    IReadOnlyList<StoredEvent> chunk = Slice(block, i, host.Options.MaxBatchSize);
                    bool last = i + chunk.Count >= block.Count;
                    metrics.Pending(chunk[0].Timestamp);
                    await run.Progress.WaitAsync(run.Aborted);
                    bool flushed;
                    try
                    {
                        run.NextPosition = stored.Start; // while inside this batch, a resume starts at its beginning
                        IReadOnlyList<StoredEvent> delivered = Deliverable(chunk);
                        // A handler's outputs are appended once per block read (what one producer call appended: 1 MiB
                        // from the default producer, 4 MiB at most), not once per chunk: one Append Block per output
                        // partition and one checkpoint for the block's chunks, sooner when the outputs reach 1 MiB or the
                        // first unflushed event was taken 250 ms ago (InvocationRetrier.FlushDue). The next offset moves
                        // only with a flush, so a checkpoint never passes events whose outputs are not written.
                        if (delivered.Count > 0 && !await retrier.HandleChunkAsync(delivered))
                        {
                            return; // halted by policy, or stopping mid-retry: nothing past the last success is checkpointed
                        }

                        retrier.HandledThrough(chunk[^1].Offset + 1);
                        flushed = materializer is not null || last || retrier.FlushDue; // a stop between chunks: flushed below the loop
                        if (flushed)
                        {
                            if (!await retrier.FlushAsync())
                            {
                                return; // the outputs could not be written (lease lost, shutdown budget spent): unchecked
                            }

                            run.NextPosition = last ? stored.End : stored.Start;
                        }
                    }
                    finally
                    {
                        run.Progress.Release();
                    }

                    // batchCheckpointFrequency counts chunks (batches), as in Azure Functions; the checkpoint waits for the
                    // next flush, since the next offset moves only then.
                    if (materializer is null && ++sinceCheckpoint >= host.Options.BatchCheckpointFrequency && flushed)
                    {
                        // A storage failure here is waited out, not a reason to restart the partition and handle again.
                        await InfrastructureRetry.RunAsync(_ => checkpointer.CheckpointAsync(run.NextOffset), $"{fn.Name}: checkpoint of {fn.Stream} partition {partition} at {run.NextOffset}", Log, host.Time, stall, run.Stopping);
                        sinceCheckpoint = 0;
                    }
                }

                if (retrier.Unflushed)
                {
                    // Stopped between chunks of a block: what was handled is written and checkpointed by the final checkpoint.
                    await run.Progress.WaitAsync(run.Aborted);
                    try
                    {
                        if (!await retrier.FlushAsync())
                        {
                            return;
                        }
                    }
                    finally
                    {
                        run.Progress.Release();
                    }
                }

                metrics.Pending(null);
                idleSince = host.Time.GetUtcNow();
                if (run.IsStopping)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (run.IsStopping)
        {
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.LeaseLost)
        {
            Log.LogWarning("{Function}: lost partition {Partition} of {Stream}; stopping it without checkpointing", fn.Name, partition, fn.Stream);
            run.Abort();
        }
        catch (Exception ex)
        {
            Failure = ex.Message.Split('\n')[0];
            Log.LogError(ex, "{Function}: partition {Partition} of {Stream} failed at offset {Offset}; it will be restarted", fn.Name, partition, fn.Stream, run.NextOffset);
        }
        finally
        {
            run.End(); // ends the periodic committer and the lease watchdog: nothing more is invoked
            await committer;
            await watchdog;
            await checkpointer.FinalAsync();
            stall.Succeeded(); // a processor that ended reports nothing more
            metrics.End();
            if (materializer is not null)
            {
                host.Tables.TryRemove(new KeyValuePair<int, MaterializedTable>(partition, materializer.Table));
            }
        }
    }

    /// <summary>The chunk's events less the copies of writes already delivered (their offsets are passed like a compaction gap).</summary>
    private IReadOnlyList<StoredEvent> Deliverable(IReadOnlyList<StoredEvent> chunk)
    {
        List<StoredEvent>? kept = null;
        for (int i = 0; i < chunk.Count; i++)
        {
            if (run.Filter.Admit(chunk[i]))
            {
                kept?.Add(chunk[i]);
            }
            else if (kept is null)
            {
                kept = [.. chunk.Take(i)];
            }
        }

        if (kept is not null && kept.Count < chunk.Count)
        {
            metrics.DuplicatesSkipped(chunk.Count - kept.Count);
        }

        return kept ?? chunk;
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
