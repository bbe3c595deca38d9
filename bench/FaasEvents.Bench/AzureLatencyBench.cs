using System.Globalization;
using System.Text;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// The latency scenarios again with storage as far away as Azure's: every storage request of every process goes through
/// a <see cref="DelayProxy"/> that holds it for a fixed time, beside the same scenarios on Azurite directly, in one run.
/// </summary>
internal static class AzureLatencyBench
{
    public static async Task RunAsync(string root, string storage, int storagePort, string outDir, int delayMs, int events, int tries)
    {
        string faas = Path.Combine(root, "src", "FaasEvents.Cli", "bin", "Release", "net10.0", "faas.dll");
        string server = Path.Combine(root, "src", "FaasEvents.Server", "bin", "Release", "net10.0", "FaasEvents.Server.dll");
        string app = Path.Combine(root, "functions", "FaasEvents.Samples", "bin", "Release", "net10.0", "FaasEvents.Samples.dll");
        await using DelayProxy proxy = DelayProxy.Start(storagePort, TimeSpan.FromMilliseconds(delayMs));
        (string Label, string Storage, int Port)[] setups =
        [
            ("Azurite on loopback", storage, storagePort),
            ($"+{delayMs} ms per storage request", proxy.Rewrite(storage, storagePort), proxy.Port),
        ];
        (string Name, bool SameProcess, bool Notices)[] cases =
        [
            ("warm: producer in the instance's process", true, false),
            ("warm: producer in another process, append notices", false, true),
            ("warm: producer in another process, polling only", false, false),
        ];
        var results = new Dictionary<(string Case, string Setup), List<double>>();
        foreach ((string label, string conn, int port) in setups)
        {
            foreach ((string name, bool same, bool notices) in cases)
            {
                List<double> ms = await WarmLatencyBench.MeasureAsync(conn, same, notices, TimeSpan.FromMilliseconds(20), events);
                results[(name, label)] = ms;
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{Markup.Escape(label)}, {Markup.Escape(name)}: p50 {Stats.Percentile(ms, 50):0.0} ms, p99 {Stats.Percentile(ms, 99):0.0} ms");
            }

            List<double> wakes = await ScalingBench.WakeFromZeroAsync(faas, server, app, push: true, tries, port);
            results[("wake from zero (faas dev, StreamIsActive push)", label)] = [.. wakes.Select(s => s * 1000)];
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{Markup.Escape(label)}, wake from zero: p50 {Stats.Percentile(wakes, 50):0.00} s, max {wakes.Max():0.00} s");
        }

        var md = new StringBuilder();
        md.AppendLine("# Latency with storage as far away as Azure's");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Commit {BenchApp.Commit(root)}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores. Every storage request of every process (bench, function instances, server, `faas dev`) goes through a loopback proxy that holds it {delayMs} ms before passing it to Azurite (a same-region Azure Blob Storage request typically takes 5-10 ms; a request's body follows its first bytes at once, responses are not held). Command: `dotnet run -c Release --project bench/FaasEvents.Bench -- azure-latency [--storage-latency-ms {delayMs}] [--latency-events {events}] [--tries {tries}]`. Warm: one event every 20 ms to a running instance at default settings, send to handler start ({events} events). Wake: ingress POST to the handler starting in a fresh instance, `faas dev` polling every 2 s ({tries} tries).");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"| scenario | {setups[0].Label}: p50 / p99 ms | {setups[1].Label}: p50 / p99 ms |");
        md.AppendLine("| --- | ---: | ---: |");
        foreach (string name in results.Keys.Select(k => k.Case).Distinct())
        {
            string Cell(string setup) => results[(name, setup)] is var xs ? $"{Stats.Percentile(xs, 50):0.0} / {Stats.Percentile(xs, 99):0.0}" : "";
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {Cell(setups[0].Label)} | {Cell(setups[1].Label)} |");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Requests held by the proxy: {proxy.Requests:N0}.");
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "azure-latency.md"), md.ToString());
        AnsiConsole.WriteLine(md.ToString());
    }
}
