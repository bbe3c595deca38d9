using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport.Scaling;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 10: KEDA holds one StreamIsActive call per ScaledObject open for days. One call on a stream fed by
/// direct producers (not this server's ingress) re-checks every 400 ms; over a simulated day (216,000 checks, a fake
/// clock moved check by check) the scaler's managed heap must stay flat.
/// </summary>
public static class ScalerMemoryScenario
{
    private const double AllowedMiB = 2;

    public static async Task<ScenarioReport> RunAsync(AzuriteProcess azurite, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await log.CreateStreamAsync(new StreamDefinition { Name = "quiet", Partitions = 4 }, cancellationToken);
        var clock = Stopwatch.StartNew();
        StreamIsActiveMemory m = await StreamIsActiveMemoryProbe.MeasureAsync(log, "quiet", TimeSpan.FromHours(1), TimeSpan.FromHours(24), cancellationToken);
        var broken = new List<string>();
        if (m.GrownMiB >= AllowedMiB)
        {
            broken.Add($"the heap grew {m.GrownMiB:0.0} MiB over the simulated day (allowed: under {AllowedMiB} MiB)");
        }

        if (m.Answers.Count != 1 || m.Answers[0])
        {
            broken.Add($"the idle stream was answered [{string.Join(",", m.Answers)}], not one 'false'");
        }

        return new ScenarioReport(
            "10. StreamIsActive memory over a simulated day",
            "1 open StreamIsActive call on an idle 4-partition stream, checked every 400 ms",
            $"none; a fake clock runs 25 simulated hours (1 h warm-up) in {clock.Elapsed.TotalSeconds:0} s",
            0,
            0,
            0,
            0,
            clock.Elapsed,
            $"managed heap {m.HeapBefore / 1048576.0:0.0} -> {m.HeapAfter / 1048576.0:0.0} MiB over {m.Checks:N0} checks ({m.GrownMiB * 1024:0} KiB); answers: [{string.Join(",", m.Answers)}]")
        {
            Broken = broken,
        };
    }
}
