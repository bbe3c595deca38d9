using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 5: steady load through one order-audit instance for a long time with 1% storage faults; the instance's
/// memory, threads and handles are sampled every 10 s and must stay flat; nothing may be lost.
/// </summary>
public static class SoakScenario
{
    public static async Task<(ScenarioReport Report, IReadOnlyList<ProcessSample> Samples)> RunAsync(AzuriteProcess azurite, ScenarioSize size, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await OrdersWorkload.CreateStreamsAsync(log);
        await using StorageFaultProxy proxy = await StorageFaultProxy.StartAsync(azurite.BlobPort, seed: 5);
        proxy.Faults.Rate = 0.01;
        const int perSecond = 200;
        int total = (int)(size.Soak.TotalSeconds * perSecond);
        var workload = new OrdersWorkload(total);
        await using var fleet = new AppFleet(proxy.ConnectionString, container, OrdersWorkload.Group);
        AppProcess app = fleet.Start();
        var samples = new List<ProcessSample>();
        var clock = Stopwatch.StartNew();
        Task produce = workload.ProduceAsync(log, TimeSpan.FromSeconds(500.0 / perSecond), cancellationToken);
        while (!produce.IsCompleted)
        {
            if (ProcessSample.Take(app.Id, clock.Elapsed) is { } s)
            {
                samples.Add(s);
            }

            await Task.WhenAny(produce, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken));
        }

        await produce;
        TimeSpan drained = await Drain.UntilNoLagAsync(log, OrdersWorkload.Stream, OrdersWorkload.Group, size.Drain, cancellationToken);
        if (ProcessSample.Take(app.Id, clock.Elapsed) is { } last)
        {
            samples.Add(last);
        }

        proxy.Faults.Rate = 0;
        int[] exits = await fleet.StopAllAsync();
        (long lost, long duplicated, long outOfOrder, long reused, long dead) = await workload.CheckAsync(log, cancellationToken);
        ProcessSample warm = samples.Count > 3 ? samples[3] : samples[0];
        ProcessSample end = samples[^1];
        return (new ScenarioReport(
            "5. Soak",
            $"{total:N0} orders at {perSecond}/s for {size.Soak.TotalMinutes:0.#} min through one order-audit instance",
            $"1% of writes: {proxy.Faults.Total:N0} faults ({KillsAndFaultsScenario.Kinds(proxy.Faults)})",
            lost,
            duplicated,
            outOfOrder,
            reused,
            clock.Elapsed,
            $"after warm-up ({warm.At.TotalSeconds:0} s) -> end: RSS {warm.RssMiB:0} -> {end.RssMiB:0} MiB, threads {warm.Threads} -> {end.Threads}, handles {warm.Handles} -> {end.Handles}; drained {drained.TotalSeconds:0} s after the last order; {dead} dead-lettered; exit codes [{string.Join(",", exits)}]"),
            samples);
    }
}
