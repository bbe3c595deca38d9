using FaasEvents.Log;

namespace FaasEvents.Server.Compaction;

/// <summary>
/// Compacts every entity stream on a schedule (<c>FAAS_COMPACTION_INTERVAL</c>, a TimeSpan; default 00:10:00; 0 turns
/// it off), with <c>FAAS_COMPACTION_DELETE_RETENTION</c> (default 1.00:00:00) and <c>FAAS_COMPACTION_MIN_LAG</c>
/// (default 0). Several server replicas may run it at once: a rewrite is idempotent and crash-safe, so the worst case
/// is duplicated work, never a wrong log.
/// </summary>
public sealed class CompactionService : BackgroundService
{
    private readonly EventLogClient log;
    private readonly TimeProvider time;
    private readonly ILogger<CompactionService> logger;
    private readonly TimeSpan interval;
    private readonly CompactionOptions options;

    /// <summary>Creates the service; a malformed setting throws naming it.</summary>
    public CompactionService(IConfiguration configuration, EventLogClient log, TimeProvider time, ILogger<CompactionService> logger)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        this.log = log;
        this.time = time;
        this.logger = logger;
        interval = Span(configuration, "FAAS_COMPACTION_INTERVAL", TimeSpan.FromMinutes(10));
        options = new CompactionOptions
        {
            DeleteRetention = Span(configuration, "FAAS_COMPACTION_DELETE_RETENTION", TimeSpan.FromHours(24)),
            MinCompactionLag = Span(configuration, "FAAS_COMPACTION_MIN_LAG", TimeSpan.Zero),
        };
    }

    /// <summary>Passes over all entity streams completed since start.</summary>
    public int Passes { get; private set; }

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

                    IReadOnlyList<PartitionCompaction> done = await log.CompactAsync(def.Name, options, cancellationToken: stoppingToken);
                    long before = done.Sum(r => r.EventsRead), after = done.Sum(r => r.EventsKept);
                    if (before > after)
                    {
                        logger.LogInformation("Compacted '{Stream}': {Before} -> {After} events in closed segments, {Bytes} bytes freed", def.Name, before, after, done.Sum(r => r.BytesBefore - r.BytesAfter));
                    }
                }

                Passes++;
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
