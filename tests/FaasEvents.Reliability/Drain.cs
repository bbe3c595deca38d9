using System.Diagnostics;
using FaasEvents.Log;

namespace FaasEvents.Reliability;

/// <summary>Waits until a consumer group has no lag, polling; fails naming the lag left.</summary>
public static class Drain
{
    public static async Task<TimeSpan> UntilNoLagAsync(EventLogClient log, string stream, string group, TimeSpan limit, CancellationToken cancellationToken)
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
                lag = (await log.GetLagAsync(stream, group, cancellationToken: cancellationToken)).TotalLag;
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
