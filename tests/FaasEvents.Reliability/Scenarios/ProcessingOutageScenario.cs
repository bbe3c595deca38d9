using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 7: storage is unreachable for 20 s (every request, read or write, of the apps and the producer fails with
/// a connection reset at a proxy in front of Azurite) while a processor (order-audit, 2 instances) and a counting
/// materializer (inventory, 2 instances) work, with leases (60 s) that outlast the outage. A storage failure is not
/// the handler's: every handler runs once per event, nothing is dead-lettered, and the inventory counts are exact.
/// (Restarting Azurite instead is not this scenario: the emulator forgets its leases on restart, which real Blob
/// Storage never does, so two instances then own a partition; scenario 4 restarts it and counts what that costs.)
/// </summary>
public static class ProcessingOutageScenario
{
    public static readonly TimeSpan Outage = TimeSpan.FromSeconds(20);

    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 100, "leaseDuration": "00:01:00", "loadBalancingInterval": "00:00:01",
            "pollInterval": "00:00:00.050", "stateCommitInterval": "00:00:01", "createStreamsIfMissing": true,
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 2, "delayInterval": "00:00:00.100" } } } }
        """;

    public static async Task<ScenarioReport> RunAsync(AzuriteProcess azurite, ScenarioSize size, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await OrdersWorkload.CreateStreamsAsync(log);
        await InventoryWorkload.CreateStreamAsync(log, cancellationToken);
        var orders = new OrdersWorkload(size.Events / 2);
        var inventory = new InventoryWorkload(size.Events / 2);
        await inventory.ProduceAsync(log, cancellationToken); // a backlog, all acknowledged before the outage
        await using StorageFaultProxy proxy = await StorageFaultProxy.StartAsync(azurite.BlobPort, seed: 17);
        proxy.Faults.Kinds = [FaultKind.ResetBeforeSend];
        proxy.Faults.FaultReads = true;
        var producerLog = new EventLogClient(proxy.ConnectionString, new EventLogClientOptions { ContainerName = container });
        var clock = Stopwatch.StartNew();
        await using var audit = new AppFleet(proxy.ConnectionString, container, OrdersWorkload.Group, HostJson);
        await using var counting = new AppFleet(proxy.ConnectionString, container, InventoryWorkload.Group, HostJson);
        await using var watch = new CheckpointWatch(log, OrdersWorkload.Group, OrdersWorkload.Stream);
        audit.Start();
        audit.Start();
        counting.Start();
        counting.Start();
        Task produce = orders.ProduceAsync(producerLog, ZombieScenario.Pace(size with { Events = size.Events / 2 }, TimeSpan.FromSeconds(45)), cancellationToken);

        await Task.Delay(TimeSpan.FromSeconds(8), cancellationToken);
        proxy.Faults.Rate = 1; // storage unreachable from here
        await Task.Delay(Outage, cancellationToken);
        proxy.Faults.Rate = 0;

        await produce;
        TimeSpan drained = await Drain.UntilNoLagAsync(log, OrdersWorkload.Stream, OrdersWorkload.Group, size.Drain, cancellationToken);
        await Drain.UntilNoLagAsync(log, InventoryWorkload.Stream, InventoryWorkload.Group, size.Drain, cancellationToken);
        int running = audit.Instances.Concat(counting.Instances).Count(i => !i.HasExited);
        int[] exits = [.. await audit.StopAllAsync(), .. await counting.StopAllAsync()];
        (long lost, long duplicated, long outOfOrder, long reused, long dead) = await orders.CheckAsync(log, cancellationToken);
        (long reruns, long writtenTwice) = await OrdersWorkload.RepeatsAsync(log, cancellationToken);
        long wrongCounts = await inventory.WrongCountsAsync(log, cancellationToken);
        bool inventoryDead = await log.TryGetStreamAsync($"{InventoryWorkload.Stream}.{InventoryWorkload.Group}.deadletter", cancellationToken) is not null;
        var broken = new List<string>();
        if (reruns > 0)
        {
            broken.Add($"{reruns} order-audit handler re-runs");
        }

        if (dead > 0 || inventoryDead)
        {
            broken.Add($"{dead} orders dead-lettered{(inventoryDead ? ", inventory dead-lettered events" : "")}");
        }

        if (wrongCounts > 0)
        {
            broken.Add($"{wrongCounts} inventory SKUs with wrong counts");
        }

        if (running < 4)
        {
            broken.Add($"{4 - running} instances exited during the run");
        }

        return new ScenarioReport(
            "7. Storage outage during processing",
            $"{orders.Acknowledged:N0} orders (2 order-audit instances) + {inventory.Count:N0} stock movements (2 inventory instances), 4 partitions each, leases 60 s",
            $"storage unreachable for {Outage.TotalSeconds:0} s, 8 s into the run: every request of the apps and the producer reset at a proxy ({proxy.Faults.Total:N0} requests failed)",
            lost + wrongCounts,
            duplicated,
            outOfOrder,
            reused + watch.Regressions,
            clock.Elapsed,
            $"handler re-runs: {reruns}; output appends written twice (an append whose answer was lost in the outage, sent again): {writtenTwice}; dead-lettered: {dead} orders, inventory {(inventoryDead ? "some" : "none")}; inventory SKUs with wrong counts: {wrongCounts}; {running} of 4 instances still running at the end (never restarted); orders drained {drained.TotalSeconds:0} s after the last one; {orders.Resent} producer chunks re-sent (duplicates above count re-sent orders too); exit codes [{string.Join(",", exits)}]")
        {
            Broken = broken,
        };
    }
}
