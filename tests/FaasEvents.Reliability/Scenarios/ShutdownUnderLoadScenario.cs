using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 8: scale-in under load. Three order-audit instances work a steady stream of orders while, every few
/// seconds, one gets SIGTERM (what Kubernetes sends) and a fresh one starts. Each must exit 0 within the 30 s host
/// shutdown timeout (the Deployment allows 45 s), having checkpointed and released: no handler re-runs, nothing lost.
/// </summary>
public static class ShutdownUnderLoadScenario
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(45); // terminationGracePeriodSeconds of the generated Deployment

    public static async Task<ScenarioReport> RunAsync(AzuriteProcess azurite, ScenarioSize size, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await OrdersWorkload.CreateStreamsAsync(log);
        var workload = new OrdersWorkload(size.Events);
        var clock = Stopwatch.StartNew();
        await using var fleet = new AppFleet(azurite.ConnectionString, container, OrdersWorkload.Group);
        await using var watch = new CheckpointWatch(log, OrdersWorkload.Group, OrdersWorkload.Stream);
        fleet.Start();
        fleet.Start();
        fleet.Start();
        Task produce = workload.ProduceAsync(log, ZombieScenario.Pace(size, TimeSpan.FromSeconds(40)), cancellationToken);
        var stops = new List<(int ExitCode, TimeSpan Took)>();
        await Task.Delay(TimeSpan.FromSeconds(4), cancellationToken);
        while (!produce.IsCompleted || stops.Count < size.Kills)
        {
            stops.Add(await fleet.TerminateOneAndReplaceAsync(Grace));
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        }

        await produce;
        TimeSpan drained = await Drain.UntilNoLagAsync(log, OrdersWorkload.Stream, OrdersWorkload.Group, size.Drain, cancellationToken);
        int[] exits = await fleet.StopAllAsync();
        (long lost, long duplicated, long outOfOrder, long reused, long dead) = await workload.CheckAsync(log, cancellationToken);
        (long reruns, long writtenTwice) = await OrdersWorkload.RepeatsAsync(log, cancellationToken);
        var broken = new List<string>();
        int slow = stops.Count(s => s.Took > Budget);
        int unclean = stops.Count(s => s.ExitCode != 0) + exits.Count(c => c != 0);
        if (slow > 0)
        {
            broken.Add($"{slow} of {stops.Count} SIGTERMs took longer than the {Budget.TotalSeconds:0} s budget");
        }

        if (unclean > 0)
        {
            broken.Add($"{unclean} instances exited with a non-zero code (137 = killed after the {Grace.TotalSeconds:0} s grace)");
        }

        if (reruns + writtenTwice > 0)
        {
            broken.Add($"{reruns} handler re-runs and {writtenTwice} outputs written twice across graceful stops");
        }

        TimeSpan[] took = [.. stops.Select(s => s.Took).Order()];
        return new ScenarioReport(
            "8. SIGTERM under load",
            $"{workload.Acknowledged:N0} orders, 4 partitions, 3 instances of order-audit",
            $"{stops.Count} SIGTERMs (one instance every ~3 s, replaced at once)",
            lost,
            duplicated,
            outOfOrder,
            reused + watch.Regressions,
            clock.Elapsed,
            $"time to exit after SIGTERM: median {took[took.Length / 2].TotalSeconds:0.0} s, max {took[^1].TotalSeconds:0.0} s (budget {Budget.TotalSeconds:0} s); exit codes [{string.Join(",", stops.Select(s => s.ExitCode).Concat(exits))}]; handler re-runs {reruns}, outputs written twice {writtenTwice}; {dead} dead-lettered; drained {drained.TotalSeconds:0} s after the last order; checkpoints polled {watch.Polls} times, {watch.Regressions} moved back")
        {
            Broken = broken,
        };
    }
}
