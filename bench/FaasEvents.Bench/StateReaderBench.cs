using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// State reader benchmark: a committed table of N keys in one partition (a full snapshot plus a delta), then what a
/// reader that does not own the partition costs: managed memory it holds, point read and scan latency, storage
/// requests per operation. Writes bench/results/state-reader.md.
/// </summary>
internal static class StateReaderBench
{
    private sealed record Level(int OnHand, int Sold);

    public static async Task RunAsync(string storage, string outDir, int tableKeys, int reads)
    {
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = $"sr-{DateTime.UtcNow:HHmmss}" });
        await log.CreateStreamAsync(new StreamDefinition { Name = "table", Partitions = 1, Kind = StreamKind.Entities });
        PartitionLease lease = (await log.CreateLeaseClient("bench").TryAcquireAsync("big", "table", 0, TimeSpan.FromSeconds(60)))!;
        PartitionStateStore store = log.CreateStateStore("big", "table", 0);
        await store.RestoreAsync();
        var table = new Dictionary<string, BinaryData>(tableKeys, StringComparer.Ordinal);
        for (int i = 0; i < tableKeys; i++)
        {
            table[Key(i)] = new BinaryData(JsonSerializer.SerializeToUtf8Bytes(new Level(i % 1000, i % 17), JsonSerializerOptions.Web));
        }

        var sw = Stopwatch.StartNew();
        await store.CommitSnapshotAsync(table, 1, lease);
        double snapshot = sw.Elapsed.TotalSeconds;
        table = null;
        await store.CommitAsync(Enumerable.Range(0, 1000).ToDictionary(i => Key(i * 997 % tableKeys), i => (BinaryData?)BinaryData.FromString("{\"onHand\":0,\"sold\":0}")), 2, lease);

        StateReader reader = log.CreateStateReader("big", "table");
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var random = new Random(5);
        var latencies = new List<double>(reads);
        for (int n = 0; n < reads; n++)
        {
            string key = Key(random.Next(tableKeys));
            sw.Restart();
            if ((await reader.GetAsync(key)).Value is null)
            {
                throw new InvalidOperationException($"key {key} not found");
            }

            latencies.Add(sw.Elapsed.TotalMilliseconds);
        }

        sw.Restart();
        StatePage page = await reader.ScanAsync(prefix: Key(tableKeys / 2)[..^3], limit: 100);
        double scan = sw.Elapsed.TotalMilliseconds;
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(reader);
        if (page.Items.Count == 0)
        {
            throw new InvalidOperationException("the scan found nothing");
        }

        latencies.Sort();
        double held = (after - before) / 1048576.0;
        var md = new StringBuilder();
        md.AppendLine("# State reader: memory and cost of reading a partition one does not own");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, Azurite in memory, commit {Git("rev-parse --short HEAD")}. Reproduce: `dotnet run -c Release --project bench/FaasEvents.Bench -- state --table-keys {tableKeys} --reads {reads}`.");
        md.AppendLine();
        md.AppendLine("| measure | value |");
        md.AppendLine("| --- | ---: |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| keys in the partition (full snapshot + a delta of 1,000) | {tableKeys:N0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| full snapshot of the serialized table (sort, encode, stream, commit) | {snapshot:0.00} s |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| managed memory the reader holds after {reads:N0} point reads and a scan | {held:0.00} MiB ({held * 1_000_000 / tableKeys:0.00} MiB per million keys) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| point read latency p50 / p99 (tip read + a ranged read per chain blob asked) | {latencies[latencies.Count / 2]:0.0} / {latencies[(int)(latencies.Count * 0.99)]:0.0} ms |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| scan of a 100-key page by prefix | {scan:0.0} ms |");
        md.AppendLine();
        md.AppendLine("Before the indexed state format (version 1), the reader downloaded and kept every non-owned partition's whole table: 42.2 MiB for 200,000 keys (211 MiB per million keys; `StateReaderMemoryTests` on the previous commit).");
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "state-reader.md"), md.ToString());
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{tableKeys:N0} keys: reader holds {held:0.00} MiB; point read p50 {latencies[latencies.Count / 2]:0.0} ms; scan {scan:0.0} ms; snapshot {snapshot:0.00} s");
    }

    private static string Key(int i) => $"sku-{i:D7}";

    private static string Git(string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true })!;
        string text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return text;
    }
}
