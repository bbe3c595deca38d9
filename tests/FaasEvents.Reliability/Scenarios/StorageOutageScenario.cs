using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 4: storage goes away mid-run while a producer and two order-audit instances work: first it hangs
/// (Azurite SIGSTOPped for 10 s, then resumed), then it restarts (graceful stop, start again on the same port and disk
/// location). Producer and apps must recover without being restarted, and nothing acknowledged may be lost.
/// </summary>
public static class StorageOutageScenario
{
    public static async Task<ScenarioReport> RunAsync(string repositoryRoot, ScenarioSize size, CancellationToken cancellationToken)
    {
        string data = Path.Combine(Path.GetTempPath(), "faas-outage-" + Guid.NewGuid().ToString("N")[..8]);
        AzuriteProcess azurite = await AzuriteProcess.StartAsync(repositoryRoot, dataDirectory: data, cancellationToken: cancellationToken);
        int port = azurite.BlobPort;
        try
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
            Task produce = workload.ProduceAsync(log, ZombieScenario.Pace(size, TimeSpan.FromSeconds(40)), cancellationToken);

            await Task.Delay(TimeSpan.FromSeconds(6), cancellationToken);
            await azurite.PauseAsync(); // storage hangs
            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
            await azurite.ResumeAsync();

            await Task.Delay(TimeSpan.FromSeconds(8), cancellationToken);
            var down = Stopwatch.StartNew();
            await azurite.StopGracefullyAsync(TimeSpan.FromSeconds(20)); // storage restarts
            await azurite.DisposeAsync();
            azurite = await AzuriteProcess.StartAsync(repositoryRoot, port, data, cancellationToken: cancellationToken);
            TimeSpan restart = down.Elapsed;

            await produce;
            TimeSpan drained = await Drain.UntilNoLagAsync(log, OrdersWorkload.Stream, OrdersWorkload.Group, size.Drain, cancellationToken);
            int running = fleet.Instances.Count(i => !i.HasExited);
            int[] exits = await fleet.StopAllAsync();
            (long lost, long duplicated, long outOfOrder, long reused, long dead) = await workload.CheckAsync(log, cancellationToken);
            return new ScenarioReport(
                "4. Storage outage",
                $"{size.Events:N0} orders, 4 partitions, 2 instances of order-audit, Azurite on disk",
                $"Azurite SIGSTOP 10 s then SIGCONT; graceful restart on the same port and location ({restart.TotalSeconds:0.0} s down)",
                lost,
                duplicated,
                outOfOrder,
                reused + watch.Regressions,
                clock.Elapsed,
                $"{running} of 2 instances still running at the end (never restarted); drained {drained.TotalSeconds:0} s after the last order; {dead} dead-lettered; {workload.Resent} producer chunks re-sent after a failure; exit codes [{string.Join(",", exits)}]");
        }
        finally
        {
            await azurite.DisposeAsync();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
