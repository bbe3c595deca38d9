using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.TestSupport;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 3: one of two instances is frozen with SIGSTOP past its lease while events keep coming, its partitions
/// are taken over, and then it is let go on with SIGCONT, still believing it owns them. For a processor (order-audit)
/// and a materializer with changelog (book-catalog): no checkpoint moves back, nothing is lost, the table is exact.
/// </summary>
public static class ZombieScenario
{
    private static readonly TimeSpan Frozen = TimeSpan.FromSeconds(25); // 15 s lease + takeover + margin

    public static async Task<ScenarioReport> RunProcessorAsync(AzuriteProcess azurite, ScenarioSize size, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await OrdersWorkload.CreateStreamsAsync(log);
        var workload = new OrdersWorkload(size.Events);
        var clock = Stopwatch.StartNew();
        await using var fleet = new AppFleet(azurite.ConnectionString, container, OrdersWorkload.Group);
        await using var watch = new CheckpointWatch(log, OrdersWorkload.Group, OrdersWorkload.Stream);
        AppProcess zombie = fleet.Start();
        fleet.Start();
        Task produce = workload.ProduceAsync(log, Pace(size, Frozen * 2), cancellationToken);
        await FreezeAndThawAsync(zombie, cancellationToken);
        await produce;
        TimeSpan drained = await Drain.UntilNoLagAsync(log, OrdersWorkload.Stream, OrdersWorkload.Group, size.Drain, cancellationToken);
        int[] exits = await fleet.StopAllAsync();
        (long lost, long duplicated, long outOfOrder, long reused, long dead) = await workload.CheckAsync(log, cancellationToken);
        return new ScenarioReport(
            "3a. Zombie processor",
            $"{size.Events:N0} orders, 4 partitions, 2 instances of order-audit",
            $"SIGSTOP of one instance for {Frozen.TotalSeconds:0} s (lease 15 s), then SIGCONT",
            lost,
            duplicated,
            outOfOrder,
            reused + watch.Regressions,
            clock.Elapsed,
            $"drained {drained.TotalSeconds:0} s after the last order; {dead} dead-lettered; checkpoints polled {watch.Polls} times, {watch.Regressions} moved back; exit codes [{string.Join(",", exits)}]");
    }

    public static async Task<ScenarioReport> RunMaterializerAsync(AzuriteProcess azurite, ScenarioSize size, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await BooksWorkload.CreateStreamsAsync(log, cancellationToken);
        var books = new BooksWorkload(size.Events);
        var clock = Stopwatch.StartNew();
        await using var fleet = new AppFleet(azurite.ConnectionString, container, BooksWorkload.Group);
        await using var watch = new CheckpointWatch(log, BooksWorkload.Group, BooksWorkload.Stream);
        AppProcess zombie = fleet.Start();
        fleet.Start();
        Task produce = books.ProduceAsync(log, Pace(size, Frozen * 2), cancellationToken);
        await FreezeAndThawAsync(zombie, cancellationToken);
        await produce;
        TimeSpan drained = await Drain.UntilNoLagAsync(log, BooksWorkload.Stream, BooksWorkload.Group, size.Drain, cancellationToken);
        int[] exits = await fleet.StopAllAsync();
        (long tableWrong, long changelogWrong, int tableKeys) = await books.CheckAsync(log, cancellationToken);
        List<StoredEvent> input = await LogAudit.ReadAllAsync(log, BooksWorkload.Stream, cancellationToken);
        return new ScenarioReport(
            "3b. Zombie materializer (changelog)",
            $"{size.Events:N0} book events over {books.Keys:N0} ISBNs, 4 partitions, 2 instances of book-catalog",
            $"SIGSTOP of one instance for {Frozen.TotalSeconds:0} s (lease 15 s), then SIGCONT",
            tableWrong + changelogWrong,
            0,
            0,
            LogAudit.ReusedOrMissingOffsets(input) + watch.Regressions,
            clock.Elapsed,
            $"table: {tableKeys:N0} keys, {tableWrong} differ from the model; changelog fold: {changelogWrong} differ; drained {drained.TotalSeconds:0} s after the last event; checkpoints polled {watch.Polls} times, {watch.Regressions} moved back; exit codes [{string.Join(",", exits)}]");
    }

    /// <summary>Lets the instance take its share, freezes it past its lease, then lets it go on.</summary>
    private static async Task FreezeAndThawAsync(AppProcess instance, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(4), cancellationToken);
        await instance.PauseAsync();
        await Task.Delay(Frozen, cancellationToken);
        await instance.ResumeAsync();
    }

    /// <summary>The pause between 500-event chunks so that production lasts about <paramref name="span"/>.</summary>
    internal static TimeSpan Pace(ScenarioSize size, TimeSpan span) =>
        TimeSpan.FromMilliseconds(Math.Clamp(span.TotalMilliseconds / Math.Max(1, size.Events / 500), 20, 5000));
}
