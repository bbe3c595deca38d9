using FaasEvents.Log;
using FaasEvents.Log.Compaction;
using FaasEvents.Log.Streams;

namespace FaasEvents.Server.Compaction;

/// <summary>
/// Compacts every entity stream on a schedule (<c>FAAS_COMPACTION_INTERVAL</c>, a TimeSpan; default 00:10:00; 0 turns
/// it off). Each stream's own deleteRetention and minCompactionLag apply unless <c>FAAS_COMPACTION_DELETE_RETENTION</c>
/// or <c>FAAS_COMPACTION_MIN_LAG</c> (TimeSpans) override them for all streams. Several server replicas may run it at once: a rewrite is idempotent and crash-safe, so the worst case
/// is duplicated work, never a wrong log.
/// </summary>
public sealed class CompactionService : BackgroundService
{
    private readonly EventLogClient log;
    private readonly TimeProvider time;
    private readonly ILogger<CompactionService> logger;
    private readonly TimeSpan interval;
    private readonly TimeSpan? deleteRetention;
    private readonly TimeSpan? minCompactionLag;

    /// <summary>Creates the service; a malformed setting throws naming it.</summary>
    public CompactionService(IConfiguration configuration, EventLogClient log, TimeProvider time, ILogger<CompactionService> logger)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        this.log = log;
        this.time = time;
        this.logger = logger;
        interval = Span(configuration, FaasSettings.CompactionInterval, TimeSpan.FromMinutes(10));
        deleteRetention = configuration[FaasSettings.CompactionDeleteRetention] is { Length: > 0 } ? Span(configuration, FaasSettings.CompactionDeleteRetention, TimeSpan.Zero) : null;
        minCompactionLag = configuration[FaasSettings.CompactionMinLag] is { Length: > 0 } ? Span(configuration, FaasSettings.CompactionMinLag, TimeSpan.Zero) : null;
    }

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
                await foreach (StreamDefinition def in log.ListStreamsAsync(stoppingToken))
                {
                    if (def.Kind != StreamKind.Entities)
                    {
                        continue;
                    }

                    var options = new CompactionOptions { DeleteRetention = deleteRetention ?? def.DeleteRetention, MinCompactionLag = minCompactionLag ?? def.MinCompactionLag };
                    IReadOnlyList<PartitionCompaction> done = await log.CompactAsync(def.Name, options, cancellationToken: stoppingToken);
                    long before = done.Sum(r => r.EventsRead), after = done.Sum(r => r.EventsKept);
                    if (before > after)
                    {
                        logger.LogInformation("Compacted '{Stream}': {Before} -> {After} events in closed segments, {Bytes} bytes freed", def.Name, before, after, done.Sum(r => r.BytesBefore - r.BytesAfter));
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Compaction pass failed; the next pass retries (an interrupted rewrite is finished or undone safely)");
            }
        }
    }

    private static TimeSpan Span(IConfiguration configuration, string key, TimeSpan fallback)
    {
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
