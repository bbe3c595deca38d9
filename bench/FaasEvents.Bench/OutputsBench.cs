using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using FaasEvents.Functions;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// What a function's outputs cost: a 1:1 copy function (one output per input) against the copy consumer a user would
/// write by hand with the same client (read 100, append their 100 outputs in one call, checkpoint every 1,000), on
/// the same Azurite in one run: events/s, storage requests per output event by class, and input-append -> downstream
/// handler latency through one copy stage. The same file runs on older commits (see bench/results/outputs.md), so
/// at-least-once and exactly-once outputs are compared by the same measurement.
/// </summary>
internal static class OutputsBench
{
    private const int Batch = 100, CheckpointEvery = 10;
    private static readonly ConcurrentDictionary<string, long> Arrived = new(StringComparer.Ordinal);

    /// <summary>The copy function's output.</summary>
    public sealed record Copied(string Of, int Size);

    public static class CopyFunctions
    {
        [Function("bench-copy")]
        [EventOutput("bench-copied")]
        public static Copied Copy([EventTrigger("bench-src")] LogEvent e) => new(e.Id, e.Data?.ToMemory().Length ?? 0);
    }

    public static class PipelineFunctions
    {
        [Function("bench-copy-lat")]
        [EventOutput("bench-lat-out")]
        public static Copied Copy([EventTrigger("bench-lat-in")] LogEvent e) => new(e.Id, 0);

        [Function("bench-sink")]
        public static void Sink([EventTrigger("bench-lat-out")] Copied c) => Arrived.TryAdd(c.Of, Stopwatch.GetTimestamp());
    }

    public static async Task RunAsync(string storage, string outDir, string root, int events, int rounds, int latencyEvents, string label)
    {
        var fnRates = new List<double>();
        var rawRates = new List<double>();
        Dictionary<string, int> fnRequests = [], rawRequests = [];
        for (int round = 0; round <= rounds; round++) // round 0 warms up both paths and is discarded
        {
            string container = $"ob{round}-{DateTime.UtcNow:HHmmssfff}";
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
            foreach (string s in new[] { "bench-src", "bench-copied", "raw-copied" })
            {
                await log.CreateStreamAsync(new StreamDefinition { Name = s });
            }

            await using (EventProducerClient p = log.CreateProducer("bench-src"))
            {
                for (int i = 0; i < events; i += 5000)
                {
                    await p.SendBatchAsync(Enumerable.Range(i, Math.Min(5000, events - i)).Select(n => new LogEvent(n.ToString(CultureInfo.InvariantCulture), "/bench", "copy") { Data = new BinaryData(new byte[100]) }));
                }
            }

            (double raw, Dictionary<string, int> rawCounts) = await RawCopyAsync(storage, container, events);
            (double fn, Dictionary<string, int> fnCounts) = await FunctionCopyAsync(storage, container, log, events);
            if (round > 0)
            {
                rawRates.Add(events / raw);
                fnRates.Add(events / fn);
                (rawRequests, fnRequests) = (rawCounts, fnCounts); // deterministic up to lease renewals: the last round's
            }

            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"round {round}{(round == 0 ? " (warm-up)" : "")}: copy function {events / fn:N0} outputs/s ({Sum(fnCounts) / (double)events:0.000} requests/output), hand-written copy {events / raw:N0} outputs/s ({Sum(rawCounts) / (double)events:0.000} requests/output)");
        }

        List<double> latencies = await PipelineLatencyAsync(storage, latencyEvents);
        var result = new OutputsResult(
            label,
            BenchApp.Commit(root),
            DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            Environment.ProcessorCount,
            events,
            rounds,
            fnRates,
            rawRates,
            fnRequests,
            rawRequests,
            Stats.Percentile(latencies, 50),
            Stats.Percentile(latencies, 99),
            latencies.Count);
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, $"outputs-{label}.json"), JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        string md = Report(Directory.GetFiles(outDir, "outputs-*.json").Select(f => JsonSerializer.Deserialize<OutputsResult>(File.ReadAllText(f))!).OrderBy(r => r.Date, StringComparer.Ordinal).ToList());
        await File.WriteAllTextAsync(Path.Combine(outDir, "outputs.md"), md);
        AnsiConsole.WriteLine(md);
        AnsiConsole.MarkupLine($"Wrote {Markup.Escape(Path.Combine(outDir, "outputs.md"))}");
    }

    /// <summary>The hand-written at-least-once copy: read 100 events, append their 100 outputs in one call, checkpoint every 1,000.</summary>
    private static async Task<(double Seconds, Dictionary<string, int> Requests)> RawCopyAsync(string storage, string container, int events)
    {
        var counter = new StorageRequestCounter();
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container, StorageOptions = counter.CreateOptions() });
        var sw = Stopwatch.StartNew();
        await using (EventProducerClient producer = log.CreateProducer("raw-copied"))
        {
            var chunk = new List<LogEvent>(Batch);
            await foreach (StoredEvent e in log.ReadPartitionAsync("bench-src", 0))
            {
                long next = e.Offset + 1;
                chunk.Add(new LogEvent(Guid.NewGuid().ToString(), "/bench/raw-copy", "copied") { Data = BinaryData.FromObjectAsJson(new Copied(e.Event.Id, e.Event.Data?.ToMemory().Length ?? 0)) });
                if (chunk.Count == Batch || next == events)
                {
                    await producer.SendBatchAsync(chunk);
                    chunk.Clear();
                }

                if (next % (Batch * CheckpointEvery) == 0 || next == events)
                {
                    await log.Checkpoints.UpdateAsync("raw", "bench-src", 0, next);
                }
            }
        }

        return (sw.Elapsed.TotalSeconds, counter.ByOperation.ToDictionary());
    }

    /// <summary>The copy function, from the app's start (its storage requests all counted) to its last output appended.</summary>
    private static async Task<(double Seconds, Dictionary<string, int> Requests)> FunctionCopyAsync(string storage, string container, EventLogClient log, int events)
    {
        var counter = new StorageRequestCounter();
        await using FunctionsApp app = Build(storage, container, "00:00:00.100", counter.CreateOptions(), typeof(CopyFunctions));
        var sw = Stopwatch.StartNew();
        await app.StartAsync();
        while ((await log.GetPartitionAsync("bench-copied", 0)).EndOffset < events)
        {
            await Task.Delay(5);
        }

        double seconds = sw.Elapsed.TotalSeconds;
        await app.StopAsync(); // its last checkpoint is counted too
        return (seconds, counter.ByOperation.ToDictionary());
    }

    /// <summary>Input append -> downstream handler start through one copy stage, a warm pipeline, one event every 20 ms.</summary>
    private static async Task<List<double>> PipelineLatencyAsync(string storage, int count)
    {
        string container = $"olat-{DateTime.UtcNow:HHmmssfff}";
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
        foreach (string s in new[] { "bench-lat-in", "bench-lat-out" })
        {
            await log.CreateStreamAsync(new StreamDefinition { Name = s });
        }

        Arrived.Clear();
        await using FunctionsApp app = Build(storage, container, "00:00:00.020", null, typeof(PipelineFunctions));
        await app.StartAsync();
        await using EventProducerClient p = log.CreateProducer("bench-lat-in", new EventProducerOptions { Linger = TimeSpan.Zero });
        List<double> latencies = await BenchApp.ProbeLatencyAsync(p, Arrived, count);
        await app.StopAsync();
        return latencies;
    }

    private static FunctionsApp Build(string storage, string container, string poll, BlobClientOptions? counted, Type functions) =>
        BenchApp.Build(storage, container, Batch, CheckpointEvery, poll, functions, counted);

    private static int Sum(Dictionary<string, int> requests) => requests.Values.Sum();

    /// <summary>Azure's billing classes: writes (put/append/set/lease/delete), reads (get/head), lists.</summary>
    private static string ClassOf(string operation) => operation switch
    {
        StorageOperation.GetBlob or StorageOperation.GetProperties or "GetBlockList" => "read",
        StorageOperation.List => "list",
        _ => "write",
    };

    private static string PerOutput(Dictionary<string, int> requests, int events, string? cls = null) =>
        (requests.Where(kv => cls is null || ClassOf(kv.Key) == cls).Sum(kv => kv.Value) / (double)events).ToString("0.000", CultureInfo.InvariantCulture);

    private static string Report(List<OutputsResult> runs)
    {
        var md = new StringBuilder();
        md.AppendLine("# What a function's outputs cost");
        md.AppendLine();
        md.AppendLine("A 1:1 copy function (`[EventOutput]`, one output per input; maxBatchSize 100, checkpoint every 1,000 events) against the");
        md.AppendLine("copy consumer a user writes by hand with the same client (read 100, `SendBatchAsync` their 100 outputs, checkpoint every");
        md.AppendLine("1,000: at-least-once), 100 B inputs, 1 partition in and out, the same in-memory Azurite in one run; rounds interleave both.");
        md.AppendLine("Requests are every storage request of each side (the function app's from its start to its stop: leases, checkpoints,");
        md.AppendLine("reads, appends), counted by an HTTP pipeline policy, per output event. Latency: input append -> downstream handler");
        md.AppendLine("start through one copy stage (`bench-lat-in` -> copy -> `bench-lat-out` -> sink), warm, one event every 20 ms, pollInterval 20 ms.");
        md.AppendLine();
        md.AppendLine("Command: `dotnet run -c Release --project bench/FaasEvents.Bench -- outputs [--events 20000] [--rounds 3] [--label NAME]`.");
        md.AppendLine("Older commits are measured with this bench's files (bench/FaasEvents.Bench/*.cs, .csproj) copied into a worktree of that commit (one row per run below).");
        md.AppendLine();
        md.AppendLine("| run | commit | outputs/s, function (median; range) | hand-written copy | ratio | requests/output: function (write/read/list) | hand-written | latency p50 / p99 ms |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | --- | --- | ---: |");
        foreach (OutputsResult r in runs)
        {
            double fn = Stats.Percentile(r.FunctionRates, 50), raw = Stats.Percentile(r.RawRates, 50);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Label} ({r.Date} UTC, {r.Cores} cores, {r.Events:N0} events x {r.Rounds} rounds) | {r.Commit} | {fn:N0} ({r.FunctionRates.Min():N0}-{r.FunctionRates.Max():N0}) | {raw:N0} ({r.RawRates.Min():N0}-{r.RawRates.Max():N0}) | {fn / raw:0.00}x | {PerOutput(r.FunctionRequests, r.Events)} ({PerOutput(r.FunctionRequests, r.Events, "write")}/{PerOutput(r.FunctionRequests, r.Events, "read")}/{PerOutput(r.FunctionRequests, r.Events, "list")}) | {PerOutput(r.RawRequests, r.Events)} | {r.LatencyP50:0.0} / {r.LatencyP99:0.0} |");
        }

        md.AppendLine();
        md.AppendLine("Requests by operation in each run's last round (function | hand-written):");
        md.AppendLine();
        foreach (OutputsResult r in runs)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {r.Label}: {string.Join(", ", r.FunctionRequests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))} | {string.Join(", ", r.RawRequests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))}");
        }

        return md.ToString();
    }

    /// <summary>One run's measurements, kept as JSON so runs of other commits appear in the same table.</summary>
    public sealed record OutputsResult(
        string Label,
        string Commit,
        string Date,
        int Cores,
        int Events,
        int Rounds,
        List<double> FunctionRates,
        List<double> RawRates,
        Dictionary<string, int> FunctionRequests,
        Dictionary<string, int> RawRequests,
        double LatencyP50,
        double LatencyP99,
        int LatencySamples);
}
