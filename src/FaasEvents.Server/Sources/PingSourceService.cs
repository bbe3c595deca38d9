using System.Globalization;
using Cronos;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling;

namespace FaasEvents.Server.Sources;

/// <summary>
/// Fires every configured ping source on its schedule. Each source has one leader among the server replicas: the
/// holder of a lease on <c>groups/ping-sources/{name}/0</c>, whose checkpoint records the last tick fired
/// (forward-only and lease-fenced), so each tick fires once however many replicas run.
/// </summary>
public sealed class PingSourceService : BackgroundService
{
    /// <summary>CloudEvents type of ping events.</summary>
    public const string EventType = "dev.faasevents.sources.ping";

    internal const string LeaderGroup = "ping-sources";
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);
    private readonly EventLogClient log;
    private readonly EventProducerPool producers;
    private readonly LagService lag;
    private readonly TimeProvider time;
    private readonly ILogger<PingSourceService> logger;
    private readonly IReadOnlyList<(PingSourceOptions Options, CronExpression Cron, TimeZoneInfo Zone, BinaryData? Data, string? ContentType)> sources;
    private readonly PartitionLeaseClient leases;

    /// <summary>Creates the service; invalid configuration throws naming the source and setting.</summary>
    public PingSourceService(IConfiguration configuration, EventLogClient log, EventProducerPool producers, LagService lag, TimeProvider time, ILogger<PingSourceService> logger)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        this.log = log;
        this.producers = producers;
        this.lag = lag;
        this.time = time;
        this.logger = logger;
        leases = log.CreateLeaseClient($"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        sources = Validate(configuration.GetSection("PingSources").Get<List<PingSourceOptions>>() ?? []);
    }

    internal static IReadOnlyList<(PingSourceOptions, CronExpression, TimeZoneInfo, BinaryData?, string?)> Validate(IReadOnlyList<PingSourceOptions> configured)
    {
        var result = new List<(PingSourceOptions, CronExpression, TimeZoneInfo, BinaryData?, string?)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < configured.Count; i++)
        {
            PingSourceOptions o = configured[i];
            string at = $"PingSources:{i} ('{o.Name}')";
            try
            {
                StreamDefinition.ValidateName(o.Name, "ping source");
                StreamDefinition.ValidateName(o.Stream, "stream");
            }
            catch (EventLogException ex)
            {
                throw new InvalidOperationException($"{at}: {ex.Message}", ex);
            }

            if (!names.Add(o.Name))
            {
                throw new InvalidOperationException($"{at}: the name is used twice");
            }

            CronExpression cron;
            try
            {
                cron = CronExpression.Parse(o.Schedule, o.Schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            }
            catch (CronFormatException ex)
            {
                throw new InvalidOperationException($"{at}: schedule '{o.Schedule}' is not a cron expression ({ex.Message}); e.g. '*/1 * * * *' or '*/10 * * * * *'", ex);
            }

            TimeZoneInfo zone;
            try
            {
                zone = TimeZoneInfo.FindSystemTimeZoneById(o.TimeZone);
            }
            catch (TimeZoneNotFoundException ex)
            {
                throw new InvalidOperationException($"{at}: time zone '{o.TimeZone}' is unknown", ex);
            }

            if (cron.GetNextOccurrence(DateTimeOffset.UtcNow, zone) is null)
            {
                throw new InvalidOperationException($"{at}: schedule '{o.Schedule}' never fires (no date matches it, e.g. 30 February); fix the day and month fields");
            }

            if (o.Data is not null && o.DataBase64 is not null)
            {
                throw new InvalidOperationException($"{at}: set either Data or DataBase64, not both");
            }

            BinaryData? data = null;
            string? contentType = o.ContentType;
            if (o.Data is not null)
            {
                data = BinaryData.FromString(o.Data);
                contentType ??= "application/json";
            }
            else if (o.DataBase64 is not null)
            {
                try
                {
                    data = new BinaryData(Convert.FromBase64String(o.DataBase64));
                }
                catch (FormatException ex)
                {
                    throw new InvalidOperationException($"{at}: DataBase64 is not valid base64", ex);
                }

                contentType ??= "application/octet-stream";
            }

            result.Add((o, cron, zone, data, contentType));
        }

        return result;
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (sources.Count == 0)
        {
            return;
        }

        logger.LogInformation("Ping sources: {Sources}", string.Join("; ", sources.Select(s => $"{s.Options.Name} '{s.Options.Schedule}' ({s.Zone.Id}) -> {s.Options.Stream}")));
        await Task.WhenAll(sources.Select(s => RunIsolatedAsync(s.Options, s.Cron, s.Zone, s.Data, s.ContentType, stoppingToken)));
    }

    /// <summary>One source failing stops that source (logged), never the server (scaler, ingress and compaction run in the same host).</summary>
    private async Task RunIsolatedAsync(PingSourceOptions o, CronExpression cron, TimeZoneInfo zone, BinaryData? data, string? contentType, CancellationToken ct)
    {
        try
        {
            await RunSourceAsync(o, cron, zone, data, contentType, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            logger.LogCritical(ex, "Ping source {Name} stopped: {Error}. The server keeps running; fix the source and restart to resume it.", o.Name, ex.Message);
        }
    }

    private async Task RunSourceAsync(PingSourceOptions o, CronExpression cron, TimeZoneInfo zone, BinaryData? data, string? contentType, CancellationToken ct)
    {
        PartitionLease? lease = null;
        Task leadership = Task.Run(
            async () =>
            {
                while (!ct.IsCancellationRequested)
                {
                    try
                    {
                        lease = lease is null
                            ? await leases.TryAcquireAsync(LeaderGroup, o.Name, 0, LeaseDuration, ct)
                            : await leases.RenewAsync(lease, ct);
                    }
                    catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.LeaseLost)
                    {
                        lease = null;
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        logger.LogWarning(ex, "Ping source {Name}: leader election failed; retrying", o.Name);
                    }

                    await Task.Delay(TimeSpan.FromSeconds(3), time, ct).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            },
            ct);

        while (!ct.IsCancellationRequested)
        {
            DateTimeOffset now = time.GetUtcNow();
            DateTimeOffset? next = cron.GetNextOccurrence(now, zone);
            if (next is null)
            {
                logger.LogWarning("Ping source {Name}: schedule '{Schedule}' has no further occurrence; the source stops", o.Name, o.Schedule);
                break;
            }

            try
            {
                await WaitUntilAsync(next.Value, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (lease is { } held && held.ExpiresAt > time.GetUtcNow())
            {
                try
                {
                    await FireAsync(o, next.Value, data, contentType, held, ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    logger.LogError(ex, "Ping source {Name}: tick {Tick:O} failed", o.Name, next.Value);
                }
            }
        }

        if (lease is { } mine)
        {
            await leases.ReleaseAsync(mine, CancellationToken.None);
        }

        await leadership.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>Waits until <paramref name="at"/> in steps of at most a day (a single Task.Delay cannot exceed ~49.7 days).</summary>
    private async Task WaitUntilAsync(DateTimeOffset at, CancellationToken ct)
    {
        TimeSpan left;
        while ((left = at - time.GetUtcNow()) > TimeSpan.Zero)
        {
            await Task.Delay(left < MaxWait ? left : MaxWait, time, ct);
        }
    }

    private async Task FireAsync(PingSourceOptions o, DateTimeOffset tick, BinaryData? data, string? contentType, PartitionLease lease, CancellationToken ct)
    {
        long tickSeconds = tick.ToUnixTimeSeconds();
        Checkpoint? last = await log.Checkpoints.GetAsync(LeaderGroup, o.Name, 0, ct);
        if (last is not null && last.NextOffset > tickSeconds)
        {
            return; // another leader already fired this tick
        }

        var e = new LogEvent($"{o.Name}-{tick.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}", $"/faas/sources/ping/{o.Name}", EventType)
        {
            Time = tick,
            PartitionKey = o.Name,
            DataContentType = contentType,
            Data = data,
        };

        // Fence first: only the lease holder can move "last fired" past this tick, so two replicas never both fire it.
        // The write fails with LeaseLost unless this replica holds the lease. "Not written" (false) with the lease
        // held means "last fired" is already past this tick, and since it was not when read above and nobody else
        // could write it meanwhile, that was this write: a try whose answer was lost and whose retry found it done.
        await log.Checkpoints.UpdateAsync(LeaderGroup, o.Name, 0, tickSeconds + 1, lease, ct);

        EventPosition written = await producers.For(o.Stream).SendAsync(e, ct);
        lag.NotifyAppended(o.Stream, [written]);
        logger.LogInformation("Ping source {Name}: fired {Id} to {Stream}", o.Name, e.Id, o.Stream);
    }
}
