using System.Diagnostics;
using FaasEvents.Log;

namespace FaasEvents.Reliability;

/// <summary>Waits until a consumer group has no lag, polling; fails naming the lag left.</summary>
public static class Drain
{
    public static Task<TimeSpan> UntilNoLagAsync(EventLogClient log, string stream, string group, TimeSpan limit, CancellationToken cancellationToken) =>
        UntilAsync(async () => (await log.GetLagAsync(stream, group, cancellationToken: cancellationToken)).TotalLag, stream, group, limit, cancellationToken);

    /// <summary>Until a group consuming <paramref name="stream"/> as a queue has settled every event.</summary>
    public static Task<TimeSpan> UntilQueueSettledAsync(EventLogClient log, string stream, string group, TimeSpan limit, CancellationToken cancellationToken) =>
        UntilAsync(async () => (await log.GetQueueLagAsync(stream, group, cancellationToken: cancellationToken)).TotalLag, stream, group, limit, cancellationToken);

    private static async Task<TimeSpan> UntilAsync(Func<Task<long>> readLag, string stream, string group, TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        long lag = -1;
        TimeSpan reported = TimeSpan.Zero;
        while (clock.Elapsed < limit)
        {
            if (clock.Elapsed - reported >= TimeSpan.FromSeconds(30))
            {
                reported = clock.Elapsed;
                Console.WriteLine($"  draining '{group}': lag {lag:N0} after {reported.TotalSeconds:0} s");
            }

            try
            {
                lag = await readLag();
                if (lag == 0)
                {
                    return clock.Elapsed;
                }
            }
            catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or EventLogException or AggregateException)
            {
                // storage briefly unavailable: look again
            }

            await Task.Delay(500, cancellationToken);
        }

        throw new TimeoutException($"Group '{group}' still has lag {lag} on '{stream}' after {limit.TotalSeconds:0} s.");
    }
}
