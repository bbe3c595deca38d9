using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 12 (issue 17): email jobs through the sample's queue-consumed <c>email-sender</c>, four instances on a
/// two-partition stream (more instances than partitions), while an instance is killed with -9 every few seconds, one is
/// paused (SIGSTOP) past its locks and resumed (a zombie), and 3% of the apps' and the producer's storage requests
/// fail. Every job must be sent or (the bouncing ones) dead-lettered: none lost. Duplicates are counted by cause:
/// a redelivery after a lock ran out (allowed), the same delivery written twice (an output append repeated after a
/// storage failure), a dead letter written twice.
/// </summary>
public static class QueueConsumptionScenario
{
    public const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "pollInterval": "00:00:00.050", "maxPollInterval": "00:00:00.500",
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 3, "delayInterval": "00:00:00.100" },
            "queue": { "lockDuration": "00:00:10", "maxDeliveryCount": 4, "maxConcurrentCalls": 8 } } } }
        """;

    public static async Task<ScenarioReport> RunAsync(AzuriteProcess azurite, ScenarioSize size, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await EmailsWorkload.CreateStreamsAsync(log, partitions: 2);
        await using StorageFaultProxy proxy = await StorageFaultProxy.StartAsync(azurite.BlobPort, seed: 12);
        proxy.Faults.Rate = 0.03;
        var producerFaults = new StorageFaultInjector(seed: 13);
        producerFaults.Random.Rate = 0.03;
        var producerLog = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container, StorageOptions = producerFaults.CreateOptions() });
        var workload = new EmailsWorkload(size.Events);
        var clock = Stopwatch.StartNew();
        await using var fleet = new AppFleet(proxy.ConnectionString, container, EmailsWorkload.Group, HostJson);
        for (int i = 0; i < 4; i++)
        {
            fleet.Start();
        }

        Task produce = workload.ProduceAsync(producerLog, TimeSpan.FromMilliseconds(100), cancellationToken);
        bool paused = false;
        while (!produce.IsCompleted || fleet.Killed < size.Kills || !paused)
        {
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            if (!paused && fleet.Killed >= 1)
            {
                // SIGSTOP past the 10 s lock: the others take its events; resumed, its outcomes are refused.
                AppProcess zombie = fleet.Instances[0];
                await zombie.PauseAsync();
                await Task.Delay(TimeSpan.FromSeconds(13), cancellationToken);
                await zombie.ResumeAsync();
                paused = true;
                continue;
            }

            await fleet.KillAndReplaceAsync(fleet.Instances[^1]); // never the zombie-to-be
        }

        await produce;
        TimeSpan drained = await Drain.UntilQueueSettledAsync(log, EmailsWorkload.Stream, EmailsWorkload.Group, size.Drain, cancellationToken);
        proxy.Faults.Rate = 0;
        int[] exits = await fleet.StopAllAsync();
        (long lost, long redelivered, long sameDelivery, long dead, long deadTwice, long wrongDead) = await workload.CheckAsync(log, cancellationToken);
        int faults = proxy.Faults.Total + producerFaults.Total;
        var broken = new List<string>();
        if (wrongDead > 0)
        {
            broken.Add($"{wrongDead} job(s) that never fail were dead-lettered");
        }

        return new ScenarioReport(
            "12. Queue consumption: kill -9, SIGSTOP and storage faults",
            $"{size.Events:N0} email jobs, 2 partitions, 4 instances of email-sender (queue, maxConcurrentCalls 8, lock 10 s)",
            $"{fleet.Killed} kill -9 ({fleet.Started} instances started), 1 SIGSTOP of 13 s; 3% of requests: {faults:N0} faults ({KillsAndFaultsScenario.Kinds(proxy.Faults, producerFaults.Random)})",
            lost,
            redelivered + sameDelivery + deadTwice,
            0, // a queue keeps no order
            0,
            clock.Elapsed,
            $"drained {drained.TotalSeconds:0} s after the last job; duplicates: {redelivered} redeliveries after a lock ran out, {sameDelivery} outputs of one delivery written twice (an append repeated after a storage failure), {deadTwice} dead letters written twice; {dead} jobs dead-lettered (every bouncing one, after 4 deliveries); {workload.Resent} producer chunks re-sent; exit codes on SIGTERM [{string.Join(",", exits)}]")
        {
            Broken = broken,
        };
    }
}
