using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Aborts a partition's run once its lease's local expiry passes without a renewal (storage unreachable, renewals
/// failing, or no longer renewed because it is stopping or being handed over): by then another instance may own the
/// partition, so this one must not handle or checkpoint anything more, and its in-flight invocation is cancelled.
/// It watches until the run's work is over, not only until a stop is asked for.
/// </summary>
internal sealed class LeaseWatchdog(FunctionHost host, PartitionRun run)
{
    public async Task WatchAsync()
    {
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(run.Lease.Duration.TotalMilliseconds / 15, 100, 1000));
        while (!run.Ended.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, host.Time, run.Ended);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (host.LeaseClock.GetUtcNow() >= run.Lease.ExpiresAt)
            {
                host.Logger.LogWarning("{Function}: lease on partition {Partition} of {Stream} was not renewed before it expired ({Expiry:O}); stopping without checkpointing", host.Function.Name, run.Partition, host.Function.Stream, run.Lease.ExpiresAt);
                run.Abort();
                return;
            }
        }
    }
}
