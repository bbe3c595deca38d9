using FaasEvents.Log;
using FaasEvents.Log.Consumers;

namespace FaasEvents.Reliability;

/// <summary>Polls a consumer group's checkpoints while a scenario runs and counts any that moved backwards (invariant 7).</summary>
public sealed class CheckpointWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private readonly Dictionary<int, long> highest = [];

    public CheckpointWatch(EventLogClient log, string group, string stream) => loop = Task.Run(() => WatchAsync(log, group, stream));

    /// <summary>Checkpoint writes seen that were below an earlier one.</summary>
    public int Regressions { get; private set; }

    /// <summary>Polls made.</summary>
    public int Polls { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }

    private async Task WatchAsync(EventLogClient log, string group, string stream)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                foreach (Checkpoint cp in await log.Checkpoints.ListAsync(group, stream, stop.Token))
                {
                    if (highest.TryGetValue(cp.Partition, out long max) && cp.NextOffset < max)
                    {
                        Regressions++;
                    }

                    highest[cp.Partition] = Math.Max(max, cp.NextOffset);
                }

                Polls++;
            }
            catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or EventLogException or AggregateException && !stop.IsCancellationRequested)
            {
                // Storage down (outage scenario): look again later.
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                await Task.Delay(200, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
