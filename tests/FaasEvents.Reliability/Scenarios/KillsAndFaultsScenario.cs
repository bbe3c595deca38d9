using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 2: orders through the sample's order-audit function (two instances, real processes) while an instance is
/// killed with -9 every few seconds and 3% of the apps' and the producer's storage writes fail. Nothing acknowledged
/// may be lost and no checkpoint may move back; duplicates (at-least-once outputs) are counted.
/// </summary>
public static class KillsAndFaultsScenario
{
    public static async Task<ScenarioReport> RunAsync(AzuriteProcess azurite, ScenarioSize size, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await OrdersWorkload.CreateStreamsAsync(log);
        await using StorageFaultProxy proxy = await StorageFaultProxy.StartAsync(azurite.BlobPort, seed: 7);
        proxy.Faults.Rate = 0.03;
        var producerFaults = new StorageFaultInjector(seed: 8);
        producerFaults.Random.Rate = 0.03;
        var producerLog = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container, StorageOptions = producerFaults.CreateOptions() });
        var workload = new OrdersWorkload(size.Events);
        var clock = Stopwatch.StartNew();
        await using var fleet = new AppFleet(proxy.ConnectionString, container, OrdersWorkload.Group);
        await using var watch = new CheckpointWatch(log, OrdersWorkload.Group, OrdersWorkload.Stream);
        fleet.Start();
        fleet.Start();
        Task produce = workload.ProduceAsync(producerLog, TimeSpan.FromMilliseconds(100), cancellationToken);
        while (!produce.IsCompleted || fleet.Killed < size.Kills)
        {
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            await fleet.KillOneAndReplaceAsync();
        }

        await produce;
        TimeSpan drained = await Drain.UntilNoLagAsync(log, OrdersWorkload.Stream, OrdersWorkload.Group, size.Drain, cancellationToken);
        proxy.Faults.Rate = 0;
        int[] exits = await fleet.StopAllAsync();
        (long lost, long duplicated, long outOfOrder, long reused, long dead) = await workload.CheckAsync(log, cancellationToken);
        int faults = proxy.Faults.Total + producerFaults.Total;
        return new ScenarioReport(
            "2. Kill -9 and storage faults",
            $"{size.Events:N0} orders, 4 partitions, 2 instances of order-audit",
            $"{fleet.Killed} kill -9 ({fleet.Started} instances started); 3% of writes: {faults:N0} faults ({Kinds(proxy.Faults, producerFaults.Random)})",
            lost,
            duplicated,
            outOfOrder,
            reused + watch.Regressions,
            clock.Elapsed,
            $"drained {drained.TotalSeconds:0} s after the last order; {dead} dead-lettered; {workload.Resent} producer chunks re-sent; checkpoints polled {watch.Polls} times, {watch.Regressions} moved back; exit codes on SIGTERM [{string.Join(",", exits)}]");
    }

    internal static string Kinds(params FaultMix[] mixes) =>
        string.Join(", ", mixes.SelectMany(m => m.ByKind).GroupBy(kv => kv.Key).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Sum(kv => kv.Value)}"));
}
