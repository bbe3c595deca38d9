using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Streams;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 9: after a burst, the lag the scaler reports must reach 0 once the function is idle, for every checkpoint
/// setting, or KEDA never scales it to zero: batchCheckpointFrequency 1, 7 and 100 (unchecked tails of up to 99
/// batches) for a processor, and a materializer committing every 1 s and every 10 s.
/// </summary>
public static class ScaleToZeroScenario
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    public static async Task<ScenarioReport> RunAsync(AzuriteProcess azurite, ScenarioSize size, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int burst = Math.Min(size.Events, 5_000) + 3; // never a whole number of batches
        var results = new List<(string Setting, TimeSpan? ToZero)>();
        foreach (int frequency in new[] { 1, 7, 100 })
        {
            results.Add(($"order-audit, batchCheckpointFrequency {frequency}", await IdleToZeroAsync(azurite, OrdersWorkload.Group, Settings($"\"batchCheckpointFrequency\": {frequency}"), log => new OrdersWorkload(burst).ProduceAsync(log, TimeSpan.Zero, cancellationToken), OrdersWorkload.Stream, cancellationToken)));
        }

        foreach (int seconds in new[] { 1, 10 })
        {
            results.Add(($"inventory, stateCommitInterval {seconds} s", await IdleToZeroAsync(azurite, InventoryWorkload.Group, Settings($"\"stateCommitInterval\": \"00:00:{seconds:D2}\""), log => new InventoryWorkload(burst).ProduceAsync(log, cancellationToken), InventoryWorkload.Stream, cancellationToken)));
        }

        List<string> broken = [.. results.Where(r => r.ToZero is null).Select(r => $"{r.Setting}: lag still above 0 {Limit.TotalSeconds:0} s after the burst was handled")];
        return new ScenarioReport(
            "9. Scale to zero after idle",
            $"a burst of {burst:N0} events per setting, 4 partitions, 1 instance",
            "none (idle after a burst)",
            0,
            0,
            0,
            0,
            clock.Elapsed,
            "time from the burst being acknowledged to lag 0 (what the scaler reports; KEDA deactivates at 0): " + string.Join("; ", results.Select(r => $"{r.Setting}: {(r.ToZero is { } t ? $"{t.TotalSeconds:0.0} s" : "never")}")))
        {
            Broken = broken,
        };
    }

    private static string Settings(string setting) => $$"""
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 10, {{setting}}, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01",
            "pollInterval": "00:00:00.050", "createStreamsIfMissing": true } } }
        """;

    /// <summary>Runs one instance with the settings, sends the burst, and times how long until the group's lag is 0 (null: not within the limit).</summary>
    private static async Task<TimeSpan?> IdleToZeroAsync(AzuriteProcess azurite, string function, string hostJson, Func<EventLogClient, Task> burst, string stream, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 4, Kind = stream == InventoryWorkload.Stream ? StreamKind.Entities : StreamKind.Events }, cancellationToken);
        await using var fleet = new AppFleet(azurite.ConnectionString, container, function, hostJson);
        fleet.Start();
        await burst(log);
        var sinceBurst = Stopwatch.StartNew();
        try
        {
            await Drain.UntilNoLagAsync(log, stream, function, Limit, cancellationToken);
            return sinceBurst.Elapsed;
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            await fleet.StopAllAsync();
        }
    }
}
