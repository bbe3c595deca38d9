using FaasEvents.Log.Consumers;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Aborts a partition's run shortly before its lease's local expiry when it was not renewed (storage unreachable, renewals
/// failing, or no longer renewed because it is stopping or being handed over): by then another instance may own the
/// partition, so this one must not handle or checkpoint anything more, and its in-flight invocation is cancelled.
/// It watches until the run's work is over, not only until a stop is asked for.
/// </summary>
internal sealed class LeaseWatchdog(FunctionHost host, PartitionRun run)
{
    /// <summary>How often the watchdog looks: a fifteenth of the lease, 0.1-1 s.</summary>
    public static TimeSpan Period(PartitionLease lease) => TimeSpan.FromMilliseconds(Math.Clamp(lease.Duration.TotalMilliseconds / 15, 100, 1000));

    /// <summary>
    /// Until when this owner may run invocations under <paramref name="lease"/>: two checks before its local expiry, so
    /// the abort (and the cancellation of an in-flight invocation) comes before storage can hand the partition to
    /// another instance, even when a check runs late. The local expiry is already no later than storage's.
    /// </summary>
    public static DateTimeOffset SafeUntil(PartitionLease lease) => lease.ExpiresAt - (Period(lease) * 2);

    public async Task WatchAsync()
    {
        TimeSpan period = Period(run.Lease);
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

            if (host.LeaseClock.GetUtcNow() >= SafeUntil(run.Lease))
            {
                host.Logger.LogWarning("{Function}: lease on partition {Partition} of {Stream} was not renewed and is about to expire ({Expiry:O}); stopping without checkpointing", host.Function.Name, run.Partition, host.Function.Stream, run.Lease.ExpiresAt);
                run.Abort();
                return;
            }
        }
    }
}
