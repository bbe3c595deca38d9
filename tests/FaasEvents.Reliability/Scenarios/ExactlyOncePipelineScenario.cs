using System.Diagnostics;
using System.Text.Json;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Streams;
using FaasEvents.Samples;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 11 (issue 13, after Kafka's transactions system test): orders through three functions at once, a copy
/// (order-audit, 1:1), a fan-out (order-split, 1:2) and a folding materializer with a changelog (customer-totals), in
/// three app instances (real processes) that are each killed with -9 several times, each kill after at least 20% more
/// progress, one instance paused with SIGSTOP past its lease and resumed, while 3% of the apps' and the producer's
/// storage writes fail (refused, reset, answered 500 after landing, answer dropped after landing, delayed). The
/// producer sends with a stable id (sequenced), so its re-sent chunks are not new orders. Consumers must see every
/// output exactly once: 0 lost, 0 duplicated, per-customer order kept, and the changelog folds to the table, which
/// equals the model.
/// </summary>
public static class ExactlyOncePipelineScenario
{
    private const string Functions = "order-audit,order-split,customer-totals";
    private const string Shipments = "orders.shipments";
    private const string Totals = "customer-totals";
    private const int Instances = 3;
    private const string Ping = "ping";
    private static readonly TimeSpan Frozen = TimeSpan.FromSeconds(25); // 15 s lease + takeover + margin

    public static async Task<ScenarioReport> RunAsync(AzuriteProcess azurite, int events, int killsPerInstance, TimeSpan drainLimit, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await OrdersWorkload.CreateStreamsAsync(log);
        await log.CreateStreamAsync(new StreamDefinition { Name = Shipments, Partitions = 4 });
        await log.CreateStreamAsync(new StreamDefinition { Name = Ping, Partitions = 1 });
        await using StorageFaultProxy proxy = await StorageFaultProxy.StartAsync(azurite.BlobPort, seed: 11);
        proxy.Faults.Rate = 0.03;
        var producerFaults = new StorageFaultInjector(seed: 12);
        producerFaults.Random.Rate = 0.03;
        var producerLog = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container, StorageOptions = producerFaults.CreateOptions() });
        var workload = new OrdersWorkload(events, producerId: new Guid("0f0e0d0c-0b0a-4908-8706-050403020100"));
        var clock = Stopwatch.StartNew();
        await using var fleet = new AppFleet(proxy.ConnectionString, container, Functions, name: "pipeline");
        await using var watch = new CheckpointWatch(log, OrdersWorkload.Group, OrdersWorkload.Stream);
        AppProcess[] slots = [.. Enumerable.Range(0, Instances).Select(_ => fleet.Start())];
        string[] pingSource = ["--PingSources:0:Name=pipeline-tick", "--PingSources:0:Schedule=* * * * * *", $"--PingSources:0:Stream={Ping}"];
        await using var server = new ServerSlot(await ServerProcess.StartAsync(proxy.ConnectionString, container, cancellationToken, pingSource)); // ticks every second, through the faults
        bool serverKilled = false;

        // Kill j (of Instances * killsPerInstance) happens once consumers are past 10% + j * 80% / kills: the kills of one
        // instance are `Instances` steps apart, more than 20% of the progress. The pause happens at half way.
        int kills = Instances * killsPerInstance;
        double Threshold(int j) => 0.10 + (j * 0.80 / kills);
        Task produce = workload.ProduceAsync(producerLog, ZombieScenario.Pace(new ScenarioSize(events, 0, TimeSpan.Zero, TimeSpan.Zero), TimeSpan.FromSeconds(events / 200.0)), cancellationToken);
        int done = 0;
        Task? pause = null;
        int pausedSlot = -1;
        var progressAtKill = new List<string>();
        while (done < kills || pause is null || !pause.IsCompleted)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            double progress = await ProgressAsync(log, events, cancellationToken);
            int slot = done % Instances;
            bool frozen = pause is { IsCompleted: false } && slot == pausedSlot; // never kill the paused one: it must wake up as a zombie
            if (done < kills && progress >= Threshold(done) && !frozen)
            {
                slots[slot] = await fleet.KillAndReplaceAsync(slots[slot]);
                progressAtKill.Add($"{progress:P0}");
                done++;
            }

            if (!serverKilled && progress >= 0.3)
            {
                server.Process.KillHard(); // its lease runs out (15 s) before the next server leads: those ticks are caught up
                await server.Process.DisposeAsync();
                server.Process = await ServerProcess.StartAsync(proxy.ConnectionString, container, cancellationToken, pingSource);
                serverKilled = true;
            }

            if (pause is null && progress >= 0.5)
            {
                pausedSlot = (done + Instances - 1) % Instances; // the one whose next kill is furthest away
                pause = FreezeAndThawAsync(slots[pausedSlot], cancellationToken); // the others go on (and are killed) meanwhile
            }
        }

        await produce;
        TimeSpan drained = TimeSpan.Zero;
        foreach (string group in new[] { OrdersWorkload.Group, "order-split", Totals })
        {
            drained += await Drain.UntilNoLagAsync(log, OrdersWorkload.Stream, group, drainLimit, cancellationToken);
        }

        await Task.Delay(TimeSpan.FromSeconds(20), cancellationToken); // the new server has led long enough to catch up
        proxy.Faults.Rate = 0;
        await server.Process.DisposeAsync();
        int[] exits = await fleet.StopAllAsync();
        (long ticksMissing, long ticksTwice, int ticks) = await CheckTicksAsync(log, cancellationToken);

        (long lost, long duplicated, long outOfOrder, long reused, long dead) = await workload.CheckAsync(log, cancellationToken);
        List<Order> orders = [.. workload.AcknowledgedOrders()];
        (long linesLost, long linesDuplicated, long linesOutOfOrder) = await CheckShipmentsAsync(log, orders, cancellationToken);
        List<string> broken = await CheckTotalsAsync(log, orders, cancellationToken);
        if (ticksMissing + ticksTwice > 0)
        {
            broken.Add($"the ping stream misses {ticksMissing} tick(s) and has {ticksTwice} twice");
        }

        if (duplicated + linesDuplicated > 0)
        {
            broken.Add($"{duplicated:N0} audits and {linesDuplicated:N0} shipment lines delivered twice (exactly-once outputs)");
        }

        long storedCopies = (await LogAudit.ReadAllAsync(log, OrdersWorkload.Output, cancellationToken, stored: true)).Count - (await LogAudit.ReadAllAsync(log, OrdersWorkload.Output, cancellationToken)).Count
            + (await LogAudit.ReadAllAsync(log, Shipments, cancellationToken, stored: true)).Count - (await LogAudit.ReadAllAsync(log, Shipments, cancellationToken)).Count;
        int faults = proxy.Faults.Total + producerFaults.Total;
        return new ScenarioReport(
            "11. Exactly-once pipeline",
            $"{events:N0} orders, 4 partitions; {Instances} instances each running order-audit (1:1), order-split (1:2) and customer-totals (materializer + changelog)",
            $"{fleet.Killed} kill -9 of app instances ({killsPerInstance} per instance, at {string.Join(", ", progressAtKill)} of the input consumed); SIGSTOP of one instance for {Frozen.TotalSeconds:0} s (lease 15 s) at half way; kill -9 of the server (its ping source ticking every second) at 30%; 3% of writes: {faults:N0} faults ({KillsAndFaultsScenario.Kinds(proxy.Faults, producerFaults.Random)})",
            lost + linesLost + ticksMissing,
            duplicated + linesDuplicated + ticksTwice,
            outOfOrder + linesOutOfOrder,
            reused + watch.Regressions,
            clock.Elapsed,
            $"drained in {drained.TotalSeconds:0} s after the last order; {orders.Count:N0} orders -> {orders.Count:N0} audits and {orders.Count * 2:N0} shipment lines expected; {storedCopies:N0} output copies stored by re-runs and zombies, all skipped by readers; {dead} dead-lettered; {workload.Resent} producer chunks re-sent (sequenced: skipped); {ticks:N0} ping ticks, each second from the first to the last once ({ticksMissing} missing, {ticksTwice} twice); {broken.Count} problems; exit codes on SIGTERM [{string.Join(",", exits)}]")
        {
            Broken = broken,
        };
    }

    /// <summary>The ping stream as consumers read it: one tick per second from the first to the last, none twice.</summary>
    private static async Task<(long Missing, long Twice, int Ticks)> CheckTicksAsync(EventLogClient log, CancellationToken cancellationToken)
    {
        List<long> seconds = [.. (await LogAudit.ReadAllAsync(log, Ping, cancellationToken)).Select(e => e.Event.Time!.Value.ToUnixTimeSeconds())];
        if (seconds.Count == 0)
        {
            return (1, 0, 0);
        }

        long distinct = seconds.Distinct().Count();
        long span = seconds.Max() - seconds.Min() + 1;
        return (span - distinct, seconds.Count - distinct, seconds.Count);
    }

    private static async Task FreezeAndThawAsync(AppProcess instance, CancellationToken cancellationToken)
    {
        await instance.PauseAsync();
        await Task.Delay(Frozen, cancellationToken);
        await instance.ResumeAsync();
    }

    /// <summary>The share of the input the slowest of the three groups has checkpointed.</summary>
    private static async Task<double> ProgressAsync(EventLogClient log, int events, CancellationToken cancellationToken)
    {
        try
        {
            long behind = 0;
            long end = (await log.GetPartitionsAsync(OrdersWorkload.Stream, cancellationToken)).Sum(p => p.EndOffset);
            foreach (string group in new[] { OrdersWorkload.Group, "order-split", Totals })
            {
                behind = Math.Max(behind, (await log.GetLagAsync(OrdersWorkload.Stream, group, cancellationToken: cancellationToken)).TotalLag);
            }

            return (end - behind) / (double)events;
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or EventLogException)
        {
            return 0;
        }
    }

    /// <summary>Each order's two lines once (as consumers read them), and per customer the orders' lines in input order.</summary>
    private static async Task<(long Lost, long Duplicated, long OutOfOrder)> CheckShipmentsAsync(EventLogClient log, List<Order> orders, CancellationToken cancellationToken)
    {
        var lines = (await LogAudit.ReadAllAsync(log, Shipments, cancellationToken))
            .Select(e => (Key: e.Event.PartitionKey, Line: e.Event.Data!.ToObjectFromJson<ShipmentLine>(JsonSerializerOptions.Web)!))
            .ToList();
        var seen = lines.GroupBy(l => (l.Line.OrderId, l.Line.Line)).ToDictionary(g => g.Key, g => g.Count());
        long lost = orders.Sum(o => (seen.ContainsKey((o.OrderId, 1)) ? 0 : 1) + (seen.ContainsKey((o.OrderId, 2)) ? 0 : 1));
        long duplicated = seen.Values.Sum(n => n - 1L);
        long outOfOrder = 0;
        foreach (var byCustomer in lines.GroupBy(l => l.Key))
        {
            long highest = -1;
            foreach (var (_, line) in byCustomer)
            {
                outOfOrder += line.Offset < highest ? 1 : 0;
                highest = Math.Max(highest, line.Offset);
            }
        }

        return (lost, duplicated, outOfOrder);
    }

    /// <summary>The table equals the model (orders counted and summed per customer), and folding the changelog gives the table.</summary>
    private static async Task<List<string>> CheckTotalsAsync(EventLogClient log, List<Order> orders, CancellationToken cancellationToken)
    {
        var model = orders.GroupBy(o => o.Customer).ToDictionary(g => g.Key, g => (Orders: g.Count(), Amount: g.Sum(o => o.Amount)), StringComparer.Ordinal);
        var table = new Dictionary<string, CustomerTotal>(StringComparer.Ordinal);
        await foreach (KeyValuePair<string, BinaryData> kv in log.CreateStateReader(Totals, OrdersWorkload.Stream).ScanAllAsync(cancellationToken: cancellationToken))
        {
            table[kv.Key] = kv.Value.ToObjectFromJson<CustomerTotal>(JsonSerializerOptions.Web)!;
        }

        var folded = new Dictionary<string, CustomerTotal>(StringComparer.Ordinal);
        foreach (StoredEvent e in await LogAudit.ReadAllAsync(log, $"{Totals}.changelog", cancellationToken))
        {
            if (e.Event.Data is null)
            {
                folded.Remove(e.Event.PartitionKey!);
            }
            else
            {
                folded[e.Event.PartitionKey!] = e.Event.Data.ToObjectFromJson<CustomerTotal>(JsonSerializerOptions.Web)!;
            }
        }

        var broken = new List<string>();
        foreach ((string customer, (int count, decimal amount)) in model)
        {
            if (!table.TryGetValue(customer, out CustomerTotal? row) || row.Orders != count || row.Amount != amount)
            {
                broken.Add($"table row '{customer}' is {row?.ToString() ?? "missing"}; {count} orders, {amount} expected");
            }
        }

        broken.AddRange(table.Keys.Except(model.Keys).Select(k => $"table row '{k}' has no orders"));
        foreach ((string customer, CustomerTotal row) in table)
        {
            if (!folded.TryGetValue(customer, out CustomerTotal? copy) || copy != row)
            {
                broken.Add($"changelog folds '{customer}' to {copy?.ToString() ?? "nothing"}, the table holds {row}");
            }
        }

        broken.AddRange(folded.Keys.Except(table.Keys).Select(k => $"changelog folds '{k}', which the table does not hold"));
        return broken;
    }

    /// <summary>The server process of the moment (it is replaced after its kill), stopped however the scenario ends.</summary>
    private sealed class ServerSlot(ServerProcess process) : IAsyncDisposable
    {
        public ServerProcess Process { get; set; } = process;

        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }
}
