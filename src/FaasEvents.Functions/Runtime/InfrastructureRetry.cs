using Azure;
using FaasEvents.Log;
using FaasEvents.Log.Retry;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Retries a runtime write (outputs, checkpoints) while storage fails, with backoff, until it succeeds or the caller
/// gives up (lease lost, shutting down). Storage failures are the infrastructure's, never the handler's: they do not
/// use the handler's retry budget and never dead-letter an event.
/// </summary>
internal static class InfrastructureRetry
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>
    /// True for failures of storage or the network (worth waiting out); false for errors in what was written (e.g. an
    /// output over the size limit) and for a lost lease, which the caller must see.
    /// </summary>
    public static bool IsInfrastructure(Exception ex) => ex switch
    {
        EventLogException e => e.Reason == EventLogErrorReason.StorageFailure,
        RequestFailedException or HttpRequestException or IOException or TimeoutException => true,
        AggregateException a => a.InnerExceptions.All(IsInfrastructure),
        _ => false,
    };

    /// <summary>
    /// Runs <paramref name="write"/> until it succeeds; storage failures are logged (one line each), reported to
    /// <paramref name="stall"/> and retried with backoff.
    /// </summary>
    public static async Task RunAsync(Func<CancellationToken, Task> write, string what, ILogger logger, TimeProvider time, WriteStall stall, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            TimeSpan delay = Backoff.Exponential(attempt, FirstDelay, MaxDelay);
            try
            {
                await write(cancellationToken);
                stall.Succeeded();
                if (attempt > 1)
                {
                    logger.LogInformation("{What}: storage answered again after {Attempts} tries", what, attempt);
                }

                return;
            }
            catch (Exception ex) when (IsInfrastructure(ex) && !cancellationToken.IsCancellationRequested)
            {
                stall.Failed(what, ex, time.GetUtcNow());
                logger.LogWarning("{What} failed (try {Attempt}; storage: {Error}); retrying in {Delay} ms", what, attempt, ex.Message.Split('\n')[0], (int)delay.TotalMilliseconds);
            }

            await Task.Delay(delay, time, cancellationToken);
        }
    }
}
