using System.Globalization;
using FaasEvents.DevStorage;
using FaasEvents.Reliability;
using FaasEvents.Reliability.Scenarios;

// The reliability suite: runs the fault scenarios and writes docs/reliability.md.
//   dotnet run -c Release --project tests/FaasEvents.Reliability -- [--quick] [--only 1,2,3,4,5,6,7,8,9,10,11,12] [--soak-minutes N]
bool quick = args.Contains("--quick");
ScenarioSize size = quick ? ScenarioSize.Quick : ScenarioSize.Full;
int at = Array.IndexOf(args, "--soak-minutes");
if (at >= 0 && at + 1 < args.Length)
{
    size = size with { Soak = TimeSpan.FromMinutes(double.Parse(args[at + 1], CultureInfo.InvariantCulture)) };
}

at = Array.IndexOf(args, "--only");
HashSet<string> only = at >= 0 && at + 1 < args.Length ? [.. args[at + 1].Split(',')] : ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"];
string root = AzuriteProcess.FindRepositoryRoot() ?? throw new InvalidOperationException("Run from inside the repository (package.json with azurite not found).");
using var cts = new CancellationTokenSource(TimeSpan.FromHours(1));
var reports = new List<ScenarioReport>();
IReadOnlyList<ProcessSample> soak = [];

async Task Run(string id, string name, Func<Task<ScenarioReport>> scenario)
{
    if (!only.Contains(id))
    {
        return;
    }

    Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] scenario {name} ...");
    try
    {
        ScenarioReport r = await scenario();
        reports.Add(r);
        Console.WriteLine($"[{DateTime.Now:HH:mm:ss}]   {(r.Passed ? "pass" : "FAIL")}: lost {r.Lost}, duplicated {r.Duplicated}, out of order {r.OutOfOrder}, reused {r.ReusedOffsets} ({r.Duration.TotalSeconds:0} s). {r.Notes}{(r.Broken.Count > 0 ? " BROKEN: " + string.Join("; ", r.Broken) : "")}");
    }
    catch (Exception ex) when (ex is not OperationCanceledException)
    {
        reports.Add(new ScenarioReport(name, "-", "-", -1, -1, -1, -1, TimeSpan.Zero, $"did not finish: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}"));
        Console.WriteLine($"  error: {name} did not finish: {ex}");
    }
}

// A fresh in-memory Azurite per scenario: Azurite's extent garbage collection runs every 10 minutes and, once it holds
// a few hundred thousand blocks, blocks every request for many minutes (seen: over 6 minutes at 100% CPU) - a stall of
// the emulator, not of what is measured.
async Task<T> OnFreshAzurite<T>(Func<AzuriteProcess, Task<T>> scenario)
{
    await using AzuriteProcess azurite = await AzuriteProcess.StartAsync(root, cancellationToken: cts.Token);
    return await scenario(azurite);
}

await Run("1", "racing producers", () => OnFreshAzurite(a => RacingProducersScenario.RunAsync(a, size, cts.Token)));
await Run("2", "kill -9 and storage faults", () => OnFreshAzurite(a => KillsAndFaultsScenario.RunAsync(a, size, cts.Token)));
await Run("11", "exactly-once pipeline", () => OnFreshAzurite(a => ExactlyOncePipelineScenario.RunAsync(a, quick ? 10_000 : 100_000, quick ? 1 : 3, size.Drain, cts.Token)));
await Run("12", "queue consumption", () => OnFreshAzurite(a => QueueConsumptionScenario.RunAsync(a, size, cts.Token)));
await Run("3", "zombie processor", () => OnFreshAzurite(a => ZombieScenario.RunProcessorAsync(a, size, cts.Token)));
await Run("3", "zombie materializer", () => OnFreshAzurite(a => ZombieScenario.RunMaterializerAsync(a, size, cts.Token)));
await Run("5", "soak", () => OnFreshAzurite(async a =>
{
    (ScenarioReport report, IReadOnlyList<ProcessSample> samples) = await SoakScenario.RunAsync(a, size, cts.Token);
    soak = samples;
    return report;
}));
await Run("8", "SIGTERM under load", () => OnFreshAzurite(a => ShutdownUnderLoadScenario.RunAsync(a, size, cts.Token)));
await Run("9", "scale to zero after idle", () => OnFreshAzurite(a => ScaleToZeroScenario.RunAsync(a, size, cts.Token)));
await Run("10", "StreamIsActive memory over a simulated day", () => OnFreshAzurite(a => ScalerMemoryScenario.RunAsync(a, cts.Token)));
await Run("6", "bad input", () => OnFreshAzurite(a => BadInputScenario.RunAsync(a, cts.Token)));
await Run("4", "storage outage", () => StorageOutageScenario.RunAsync(root, size, cts.Token));
await Run("7", "storage outage during processing", () => OnFreshAzurite(a => ProcessingOutageScenario.RunAsync(a, size, cts.Token)));
reports.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
string command = "dotnet run -c Release --project tests/FaasEvents.Reliability -- " + string.Join(' ', args);
string path = Path.Combine(root, "docs", quick ? "reliability-quick.md" : "reliability.md");
await File.WriteAllTextAsync(path, ReliabilityDocument.Render(reports, soak, command.TrimEnd(), root));
Console.WriteLine($"Wrote {path}: {reports.Count(r => r.Passed)} of {reports.Count} scenarios passed.");
return reports.All(r => r.Passed) ? 0 : 1;
