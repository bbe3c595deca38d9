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
/// (forward-only and lease-fenced). Ticks are appended before they are recorded, as sequenced writes readers deliver
/// once, and a new leader catches up the ticks missed since the last one recorded: each tick fires exactly once
/// (docs/control-plane.md).
/// </summary>
public sealed class PingSourceService : BackgroundService
{
    /// <summary>CloudEvents type of ping events.</summary>
    public const string EventType = "dev.faasevents.sources.ping";

    internal const string LeaderGroup = "ping-sources";
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);
    private const int MaxTicksPerFiring = 10_000;
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

            if (o.CatchUp < TimeSpan.Zero || o.CatchUp > TimeSpan.FromDays(1))
            {
                throw new InvalidOperationException($"{at}: CatchUp {o.CatchUp} is out of range; use 00:00:00 (no catch-up) up to 1.00:00:00 (a day)");
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

        DateTimeOffset? due = cron.GetNextOccurrence(time.GetUtcNow(), zone);
        string? caughtUpUnder = null; // the lease under which every tick up to now has been fired
        DateTimeOffset? owed = null; // the oldest tick that fell due while leading and is not fired yet
        while (!ct.IsCancellationRequested && due is not null)
        {
            try
            {
                await Task.Delay(Step(due.Value - time.GetUtcNow()), time, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            DateTimeOffset now = time.GetUtcNow();
            DateTimeOffset? dueTick = due <= now ? due : null;
            PartitionLease? held = lease is { } l && l.ExpiresAt > now ? l : null;
            if (dueTick is not null)
            {
                if (held is null)
                {
                    caughtUpUnder = null; // a tick passed unfired (not leading, or the lease ran out here): look again once leading
                }
                else
                {
                    owed ??= dueTick;
                }
            }

            if (held is not null && (owed is not null || caughtUpUnder != held.LeaseId))
            {
                try
                {
                    await FireDueAsync(o, cron, zone, data, contentType, held, owed, now, ct);
                    caughtUpUnder = held.LeaseId;
                    owed = null;
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    caughtUpUnder = null; // fire what is due again in a second: the append is idempotent
                    logger.LogError(ex, "Ping source {Name}: firing the ticks due at {Now:O} failed ({Error}); retrying", o.Name, now, ex.Message);
                }
            }

            if (dueTick is not null)
            {
                due = cron.GetNextOccurrence(now, zone);
            }
        }

        if (due is null)
        {
            logger.LogWarning("Ping source {Name}: schedule '{Schedule}' has no further occurrence; the source stops", o.Name, o.Schedule);
        }

        if (lease is { } mine)
        {
            await leases.ReleaseAsync(mine, CancellationToken.None);
        }

        await leadership.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>How long to sleep before looking again: until the next tick, at most a second (to notice leadership and retry a failed tick).</summary>
    private static TimeSpan Step(TimeSpan untilDue) => untilDue <= TimeSpan.Zero ? TimeSpan.Zero : untilDue < TimeSpan.FromSeconds(1) ? untilDue : TimeSpan.FromSeconds(1);

    /// <summary>
    /// Fires every tick not fired yet: those that fell due while leading (from <paramref name="owed"/> on, however
    /// long ago), and, after a leader change or a failed try, each tick since the last one recorded, no further back
    /// than <see cref="PingSourceOptions.CatchUp"/>. The ticks are appended first, as sequenced writes (writer = the
    /// source, sequence = the tick's time), and recorded after: a crash or an ambiguous answer in between makes the next
    /// try append them again, and readers skip the copy.
    /// </summary>
    private async Task FireDueAsync(PingSourceOptions o, CronExpression cron, TimeZoneInfo zone, BinaryData? data, string? contentType, PartitionLease lease, DateTimeOffset? owed, DateTimeOffset now, CancellationToken ct)
    {
        Checkpoint? last = await log.Checkpoints.GetAsync(LeaderGroup, o.Name, 0, ct);
        List<DateTimeOffset> ticks;
        if (last is null)
        {
            // Never fired: start with the ticks that fell due while leading, no history.
            ticks = owed is { } first ? [.. cron.GetOccurrences(first, now, zone, fromInclusive: true, toInclusive: true).Take(MaxTicksPerFiring)] : [];
        }
        else
        {
            DateTimeOffset lastFired = DateTimeOffset.FromUnixTimeSeconds(last.NextOffset - 1);
            DateTimeOffset bound = now - o.CatchUp;
            if (owed is { } oldest && oldest < bound)
            {
                bound = oldest; // what fell due while leading is owed however old it is now (a retry after a long outage)
            }

            if (lastFired >= now)
            {
                ticks = []; // this clock is behind the one that recorded the last tick: nothing is due yet
            }
            else if (lastFired >= bound)
            {
                ticks = [.. cron.GetOccurrences(lastFired, now, zone, fromInclusive: false, toInclusive: true).Take(MaxTicksPerFiring)];
            }
            else
            {
                ticks = [.. cron.GetOccurrences(bound, now, zone, fromInclusive: true, toInclusive: true).Take(MaxTicksPerFiring)];
                if (cron.GetNextOccurrence(lastFired, zone) is { } missed && missed < bound)
                {
                    logger.LogWarning("Ping source {Name}: ticks from {Missed:O} to before {Bound:O} were missed (no leader) and are older than CatchUp ({CatchUp}); they are not fired", o.Name, missed, bound, o.CatchUp);
                }
            }
        }

        if (ticks.Count == 0)
        {
            return;
        }

        Guid writer = WriterIdentity.For("ping", o.Name, o.Stream, 0);
        LogEvent[] events = [.. ticks.Select(t => TickEvent(o, t, data, contentType))];
        WriterMark[] marks = [.. ticks.Select(t => new WriterMark(writer, t.ToUnixTimeMilliseconds()))];
        IReadOnlyList<EventPosition> written = await producers.For(o.Stream).SendSequencedAsync(events, marks, ct);

        // Recorded only once appended. The write is lease-fenced (LeaseLost unless this replica still leads); "not
        // written" (false) means "last fired" is already past these ticks, which only a try of this same write can do.
        await log.Checkpoints.UpdateAsync(LeaderGroup, o.Name, 0, ticks[^1].ToUnixTimeSeconds() + 1, lease, ct);
        lag.NotifyAppended(o.Stream, written);
        if (ticks.Count == 1)
        {
            logger.LogInformation("Ping source {Name}: fired {Id} to {Stream}", o.Name, events[0].Id, o.Stream);
        }
        else
        {
            logger.LogInformation("Ping source {Name}: fired {Count} ticks to {Stream}, {First} to {Last} (caught up after a leader change or a failed try)", o.Name, ticks.Count, o.Stream, events[0].Id, events[^1].Id);
        }
    }

    private static LogEvent TickEvent(PingSourceOptions o, DateTimeOffset tick, BinaryData? data, string? contentType) =>
        new($"{o.Name}-{tick.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}", $"/faas/sources/ping/{o.Name}", EventType)
        {
            Time = tick,
            PartitionKey = o.Name,
            DataContentType = contentType,
            Data = data,
        };
}
