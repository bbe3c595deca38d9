using FaasEvents.Log;
using FaasEvents.Log.Streams;

namespace FaasEvents.Server.Maintenance;

/// <summary>
/// A pass over every stream on a schedule (a TimeSpan setting; 0 turns it off), run by the server so maintenance does
/// not wait for someone to type a command. A failed pass is logged and the next one retries; one stream's failure
/// does not stop the pass over the others.
/// </summary>
public abstract class StreamPassService : BackgroundService
{
    private readonly TimeProvider time;
    private readonly TimeSpan interval;

    /// <summary>Reads the interval from <paramref name="intervalSetting"/> (default <paramref name="defaultInterval"/>); a malformed value throws naming it.</summary>
    protected StreamPassService(IConfiguration configuration, string intervalSetting, TimeSpan defaultInterval, EventLogClient log, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        Log = log;
        this.time = time;
        Logger = logger;
        interval = Span(configuration, intervalSetting, defaultInterval);
    }

    /// <summary>The log the passes work on.</summary>
    protected EventLogClient Log { get; }

    /// <summary>Where passes report.</summary>
    protected ILogger Logger { get; }

    /// <summary>What the pass is called in log lines (e.g. "Compaction").</summary>
    protected abstract string PassName { get; }

    /// <summary>Whether the pass has work on this stream.</summary>
    protected abstract bool AppliesTo(StreamDefinition stream);

    /// <summary>Runs the pass on one stream.</summary>
    protected abstract Task RunAsync(StreamDefinition stream, CancellationToken cancellationToken);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                await foreach (StreamDefinition def in Log.ListStreamsAsync(stoppingToken))
                {
                    if (!AppliesTo(def))
                    {
                        continue;
                    }

                    try
                    {
                        await RunAsync(def, stoppingToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        Logger.LogWarning(ex, "{Pass} of '{Stream}' failed; the next pass retries", PassName, def.Name);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Logger.LogWarning(ex, "{Pass} pass failed listing the streams; the next pass retries", PassName);
            }
        }
    }

    /// <summary>A TimeSpan setting (default <paramref name="fallback"/>); a malformed or negative value throws naming the setting.</summary>
    protected static TimeSpan Span(IConfiguration configuration, string key, TimeSpan fallback)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out TimeSpan value) && value >= TimeSpan.Zero
            ? value
            : throw new ArgumentException($"{key}: '{text}' is not a non-negative TimeSpan such as 00:10:00.");
    }
}
