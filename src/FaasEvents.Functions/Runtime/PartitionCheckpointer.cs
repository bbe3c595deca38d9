using System.Diagnostics;
using FaasEvents.Functions.Telemetry;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Checkpoints one partition's run under its lease: after handled batches (by the read loop), when an unchecked tail
/// has been idle (batchCheckpointFrequency above 1), a materializer's table every stateCommitInterval (its state and
/// offset commit together), and a final checkpoint when the run ends without losing its lease.
/// </summary>
internal sealed class PartitionCheckpointer(FunctionHost host, PartitionRun run, MaterializerPartition? materializer, PartitionMetrics metrics)
{
    /// <summary>How long a partition with an unchecked tail stays idle before that tail is checkpointed.</summary>
    private static readonly TimeSpan IdleFlushDelay = TimeSpan.FromSeconds(1);

    private long checkpointed = -1;

    /// <summary>The partition's counts as of this run's last checkpoint: what was counted before the run is not this run's to report.</summary>
    private WorkCounts reported = metrics.Counts;

    /// <summary>Records the checkpoint found when the run started.</summary>
    public void Found(long nextOffset) => checkpointed = nextOffset;

    /// <summary>Starts what checkpoints in the background (a materializer's periodic commit, or the idle flush); completes once the run stops.</summary>
    public Task StartBackground() =>
        materializer is not null ? Task.Run(CommitPeriodicallyAsync)
        : host.Options.BatchCheckpointFrequency > 1 ? Task.Run(FlushWhenIdleAsync)
        : Task.CompletedTask;

    /// <summary>A materializer persists its table within <see cref="EventLogHostOptions.StateCommitInterval"/> of handling events, busy or idle.</summary>
    private Task CommitPeriodicallyAsync() => EveryAsync(
        host.Options.StateCommitInterval,
        async () =>
        {
            if (run.NextOffset > checkpointed)
            {
                await CheckpointAsync(run.NextOffset); // on failure the changes stay pending and are retried
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
                await run.Progress.WaitAsync(run.Stopping);
                try
                {
                    long next = run.NextOffset;
                    if (next == seen && next > checkpointed)
                    {
                        await CheckpointAsync(next);
                    }

                    seen = next;
                }
                finally
                {
                    run.Progress.Release();
                }
            },
            "checkpointing its idle tail");
    }

    /// <summary>Runs <paramref name="tick"/> every <paramref name="period"/> until the processor stops; a lost lease aborts it, other failures are retried next time.</summary>
    private async Task EveryAsync(TimeSpan period, Func<Task> tick, string what)
    {
        while (!run.IsStopping)
        {
            try
            {
                await Task.Delay(period, host.Time, run.Stopping);
                await tick();
            }
            catch (OperationCanceledException) when (run.IsStopping)
            {
                return;
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.LeaseLost)
            {
                host.Logger.LogWarning("{Function}: lost partition {Partition} of {Stream} while {What}; stopping it", host.Function.Name, run.Partition, host.Function.Stream, what);
                run.Abort();
                return;
            }
            catch (Exception ex)
            {
                host.Logger.LogWarning("{Function}: {What} of partition {Partition} failed ({Error}); retrying", host.Function.Name, what, run.Partition, ex.Message.Split('\n')[0]);
            }
        }
    }

    public async Task FinalAsync()
    {
        if (run.IsAborted || run.NextOffset <= checkpointed || run.NextOffset < 0)
        {
            return;
        }

        try
        {
            await CheckpointAsync(run.NextOffset);
        }
        catch (Exception ex)
        {
            host.Logger.LogWarning(ex, "{Function}: final checkpoint of partition {Partition} at {Offset} failed; the next owner resumes from the previous one", host.Function.Name, run.Partition, run.NextOffset);
        }
    }

    public async Task CheckpointAsync(long next)
    {
        using Activity? span = FunctionActivities.StartCheckpoint(host.Function, run.Partition, next);
        try
        {
            await WriteAsync(next);
        }
        catch (Exception ex)
        {
            FunctionActivities.Failed(span, ex);
            throw;
        }
    }

    private async Task WriteAsync(long next)
    {
        if (materializer is not null)
        {
            await run.Progress.WaitAsync(CancellationToken.None);
            try
            {
                next = Math.Max(next, run.NextOffset);
                if (next > checkpointed)
                {
                    long started = Stopwatch.GetTimestamp();
                    WorkCounts counts = metrics.Counts;
                    await materializer.CommitAsync(next, run.NextPosition, Writers(next), counts - reported, run.Writers!.Changelog, run.Lease, CancellationToken.None);
                    metrics.StateCommitted(Stopwatch.GetElapsedTime(started).TotalSeconds);
                    checkpointed = next;
                    reported = counts;
                }
            }
            finally
            {
                run.Progress.Release();
            }

            return;
        }

        // The position is only a hint for the offset it was taken with; the reader checks it before use.
        LogPosition? position = next == run.NextOffset ? run.NextPosition : null;
        WorkCounts now = metrics.Counts;
        await host.Checkpoints.UpdateCheckpointAsync(run.Lease, next, position, Writers(next), now - reported, CancellationToken.None);
        checkpointed = next;
        reported = now;
    }

    /// <summary>What the duplicate filter delivered below <paramref name="next"/>: stored with the checkpoint, so a successor resuming there skips the copies of it.</summary>
    private string? Writers(long next) => run.Filter.Settle(next, host.Time.GetUtcNow(), DuplicateFilter.DefaultWindow);
}
