using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using Spectre.Console;

// Producer benchmark: FaasEvents producer vs raw Append Block calls of the same batch sizes and bytes,
// against the same Azurite, in one run, rounds interleaved so machine noise hits both alike.
// Usage: dotnet run -c Release --project bench/FaasEvents.Bench -- [limit|growth|functions|outputs|schema|queue|cost|alternatives|azure-latency|scaling|materializers|state] [--events N] [--size BYTES] [--rounds R] [--latency-sends N] [--out DIR] (scaling: [--wake-only --label NAME] [--app-dll PATH]) (functions: [--alloc-types] prints what each phase allocates, by type, and writes nothing) (materializers: [--fold-only], a profiling run that writes nothing) (limit: [--megabytes N] [--size BYTES] [--partitions 1|8] [--producers 1|8] to run one configuration)
int events = Arg("--events", 100_000);
int size = Arg("--size", 1024);
int rounds = Arg("--rounds", 3);
int latencySends = Arg("--latency-sends", 300);
string root = AzuriteProcess.FindRepositoryRoot(Directory.GetCurrentDirectory()) ?? AzuriteProcess.FindRepositoryRoot() ?? Directory.GetCurrentDirectory();
string outDir = ArgS("--out", Path.Combine(root, "bench", "results"));

string? storage = Environment.GetEnvironmentVariable("FAAS_STORAGE");
AzuriteProcess? azurite = null;
if (string.IsNullOrEmpty(storage))
{
    AnsiConsole.MarkupLine("Starting an in-memory Azurite for the benchmark ...");
    azurite = await AzuriteProcess.StartAsync(root);
    storage = azurite.ConnectionString;
}

try
{
    if (args.Contains("scaling"))
    {
        await FaasEvents.Bench.ScalingBench.RunAsync(root, outDir, "Release", args.Contains("--wake-only"), ArgS("--label", "latest"), args.Contains("--app-dll") ? ArgS("--app-dll", "") : null);
        return;
    }

    if (args.Contains("materializers"))
    {
        await FaasEvents.Bench.MaterializerBench.RunAsync(storage, outDir, Arg("--events", 1_000_000), Arg("--keys", 10_000), rounds, Arg("--table-keys", 1_000_000), args.Contains("--fold-only"));
        return;
    }

    if (args.Contains("state"))
    {
        await FaasEvents.Bench.StateReaderBench.RunAsync(storage, outDir, Arg("--table-keys", 1_000_000), Arg("--reads", 200));
        return;
    }

    if (args.Contains("cost"))
    {
        await FaasEvents.Bench.CostBench.RunAsync(storage, outDir, root, Arg("--events", 10_000), Arg("--size", 1024), Arg("--idle-seconds", 120), ArgS("--label", "current"));
        return;
    }

    if (args.Contains("growth"))
    {
        await FaasEvents.Bench.GrowthBench.RunAsync(storage, root, outDir, Arg("--events", 100_000));
        return;
    }

    if (args.Contains("limit"))
    {
        await FaasEvents.Bench.LimitBench.RunAsync(storage, root, outDir, Arg("--megabytes", 64), rounds, Arg("--size", 0), Arg("--partitions", 0), Arg("--producers", 0));
        return;
    }

    if (args.Contains("azure-latency"))
    {
        if (azurite is null)
        {
            throw new InvalidOperationException("azure-latency starts its own Azurite to put the delay proxy in front of it: unset FAAS_STORAGE.");
        }

        await FaasEvents.Bench.AzureLatencyBench.RunAsync(root, storage, azurite.BlobPort, outDir, Arg("--storage-latency-ms", 8), Arg("--latency-events", 200), Arg("--tries", 10));
        return;
    }

    if (args.Contains("alternatives"))
    {
        await FaasEvents.Bench.AlternativesBench.RunAsync(storage, root, outDir, Arg("--events", 5_000), Arg("--latency-events", 300), rounds);
        return;
    }

    if (args.Contains("queue"))
    {
        await FaasEvents.Bench.QueueBench.RunAsync(storage, root, outDir, rounds);
        return;
    }

    if (args.Contains("schema"))
    {
        await FaasEvents.Bench.SchemaBench.RunAsync(storage, outDir, root, Arg("--events", 200_000), Arg("--rounds", 5));
        return;
    }

    if (args.Contains("outputs"))
    {
        await FaasEvents.Bench.OutputsBench.RunAsync(storage, outDir, root, Arg("--events", 20_000), rounds, Arg("--latency-events", 300), ArgS("--label", "current"));
        return;
    }

    if (args.Contains("functions"))
    {
        await FaasEvents.Bench.FunctionsBench.RunAsync(storage, outDir, Arg("--events", 1_000_000), rounds, Arg("--latency-events", 300), args.Contains("--alloc-types"));
        return;
    }

    var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = "bench" + DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture) });
    await log.Container.CreateIfNotExistsAsync();
    var producerRuns = new List<double>();
    var rawRuns = new List<double>();
    List<int> batchSizes = [];
    long eventBytes = 0;

    for (int round = 0; round < rounds + 1; round++) // round 0 warms up both paths and is discarded
    {
        string stream = $"p{round}";
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 1 });
        List<LogEvent> batch = MakeEvents(events, size);

        // Both writers are warm (blob created, one append done) before their clocks start: this measures
        // sustained throughput, not the one-off cost of opening a partition.
        Stopwatch sw;
        await using (EventProducerClient producer = log.CreateProducer(stream, new EventProducerOptions { MaxBatchBytes = 1024 * 1024, Linger = TimeSpan.FromMilliseconds(5) }))
        {
            await producer.SendAsync(MakeEvents(1, size)[0]);
            sw = Stopwatch.StartNew();
            var inFlight = new List<Task>();
            for (int i = 0; i < batch.Count; i += 5000)
            {
                inFlight.Add(producer.SendBatchAsync(batch.GetRange(i, Math.Min(5000, batch.Count - i))));
            }

            await Task.WhenAll(inFlight);
            sw.Stop();
        }

        // The raw baseline replays exactly the append blocks the producer made: same count, same sizes.
        batchSizes = (await FaasEvents.Bench.SegmentBlocks.SizesAsync(log, stream, 0)).Skip(1).ToList(); // minus the warm-up append
        eventBytes = batch.Sum(e => (long)e.Data!.ToMemory().Length);
        double rawSeconds = await RawAppendAsync(log, $"raw/{round}", batchSizes);
        if (round > 0)
        {
            producerRuns.Add(sw.Elapsed.TotalSeconds);
            rawRuns.Add(rawSeconds);
        }

        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"round {round}{(round == 0 ? " (warm-up)" : "")}: producer {events / sw.Elapsed.TotalSeconds:N0} ev/s, raw {events / rawSeconds:N0} ev/s, {batchSizes.Count} blocks");
    }

    // Single-event send latency (linger 0, one at a time) vs one raw Append Block of the same bytes.
    await log.CreateStreamAsync(new StreamDefinition { Name = "latency" });
    var sendLatencies = new List<double>();
    var rawLatencies = new List<double>();
    await using (EventProducerClient producer = log.CreateProducer("latency", new EventProducerOptions { Linger = TimeSpan.Zero }))
    {
        LogEvent warm = MakeEvents(1, size)[0];
        await producer.SendAsync(warm);
        int singleBlock = (await FaasEvents.Bench.SegmentBlocks.SizesAsync(log, "latency", 0))[0];
        AppendBlobClient raw = log.Container.GetAppendBlobClient("raw/latency");
        await raw.CreateAsync();
        byte[] payload = new byte[singleBlock];
        foreach (LogEvent e in MakeEvents(latencySends, size))
        {
            var t = Stopwatch.StartNew();
            await producer.SendAsync(e);
            sendLatencies.Add(t.Elapsed.TotalMilliseconds);
            t.Restart();
            await raw.AppendBlockAsync(new MemoryStream(payload));
            rawLatencies.Add(t.Elapsed.TotalMilliseconds);
        }
    }

    double producerMedian = Median(producerRuns), rawMedian = Median(rawRuns);
    double mib = eventBytes / (1024.0 * 1024.0);
    double ratio = rawMedian / producerMedian;
    var table = new Table().AddColumns("", "events/s", "MiB/s (data)", "append blocks", "median of");
    table.AddRow("FaasEvents producer", $"{events / producerMedian:N0}", $"{mib / producerMedian:0.0}", batchSizes.Count.ToString(CultureInfo.InvariantCulture), $"{rounds} rounds");
    table.AddRow("raw AppendBlockAsync", $"{events / rawMedian:N0}", $"{mib / rawMedian:0.0}", batchSizes.Count.ToString(CultureInfo.InvariantCulture), $"{rounds} rounds");
    table.AddRow("[bold]ratio[/]", $"[bold]{ratio:0.00}x[/]", "", "", "target >= 0.90x");
    AnsiConsole.Write(table);
    var lat = new Table().AddColumns("single event", "p50 ms", "p99 ms", "sends");
    lat.AddRow("producer SendAsync (linger 0)", $"{Percentile(sendLatencies, 50):0.00}", $"{Percentile(sendLatencies, 99):0.00}", latencySends.ToString(CultureInfo.InvariantCulture));
    lat.AddRow("raw AppendBlockAsync", $"{Percentile(rawLatencies, 50):0.00}", $"{Percentile(rawLatencies, 99):0.00}", latencySends.ToString(CultureInfo.InvariantCulture));
    AnsiConsole.Write(lat);

    Directory.CreateDirectory(outDir);
    var md = new StringBuilder();
    md.AppendLine(CultureInfo.InvariantCulture, $"Producer benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {events:N0} events of {size} B data, 1 partition, both writers warm, median of {rounds} interleaved rounds.");
    md.AppendLine();
    md.AppendLine("| path | events/s | MiB/s (data) | append blocks |");
    md.AppendLine("| --- | ---: | ---: | ---: |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| FaasEvents producer | {events / producerMedian:N0} | {mib / producerMedian:0.0} | {batchSizes.Count} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| raw AppendBlockAsync, same blocks | {events / rawMedian:N0} | {mib / rawMedian:0.0} | {batchSizes.Count} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| **ratio producer / raw** | **{ratio:0.00}x** | | |");
    md.AppendLine();
    md.AppendLine("Per-round ratios (same round, back to back): " + string.Join(", ", rawRuns.Zip(producerRuns, (r, p) => (r / p).ToString("0.00", CultureInfo.InvariantCulture) + "x")) + ".");
    md.AppendLine();
    md.AppendLine("| single event | p50 ms | p99 ms |");
    md.AppendLine("| --- | ---: | ---: |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| producer SendAsync (linger 0) | {Percentile(sendLatencies, 50):0.00} | {Percentile(sendLatencies, 99):0.00} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| raw AppendBlockAsync | {Percentile(rawLatencies, 50):0.00} | {Percentile(rawLatencies, 99):0.00} |");
    await File.WriteAllTextAsync(Path.Combine(outDir, "producer.md"), md.ToString());

    var plot = new ScottPlot.Plot();
    plot.Add.Bars([events / producerMedian, events / rawMedian]);
    plot.Axes.Bottom.SetTicks([0, 1], ["FaasEvents producer", "raw AppendBlockAsync"]);
    plot.Axes.Left.Label.Text = "events/s (1 KiB)";
    plot.Title($"Producer throughput vs raw appends: {ratio:0.00}x");
    plot.Axes.Margins(bottom: 0);
    plot.SavePng(Path.Combine(outDir, "producer.png"), 640, 420);
    AnsiConsole.MarkupLine($"Wrote {Markup.Escape(Path.Combine(outDir, "producer.md"))} and producer.png");
}
finally
{
    if (azurite is not null)
    {
        await azurite.DisposeAsync();
    }
}

static async Task<double> RawAppendAsync(EventLogClient log, string name, List<int> blockSizes)
{
    AppendBlobClient blob = log.Container.GetAppendBlobClient(name);
    await blob.CreateAsync();
    await blob.AppendBlockAsync(new MemoryStream(new byte[1024])); // warm, like the producer
    byte[][] blocks = blockSizes.Select(n => { var b = new byte[n]; Random.Shared.NextBytes(b); return b; }).ToArray();
    var sw = Stopwatch.StartNew();
    foreach (byte[] b in blocks)
    {
        await blob.AppendBlockAsync(new MemoryStream(b));
    }

    return sw.Elapsed.TotalSeconds;
}

static List<LogEvent> MakeEvents(int count, int size) =>
    Enumerable.Range(0, count).Select(i => new LogEvent(Guid.NewGuid().ToString(), "/bench", "bench.event")
    {
        DataContentType = "application/octet-stream",
        Data = new BinaryData(FaasEvents.Bench.SegmentBlocks.RandomBytes(size)),
    }).ToList();

static double Median(List<double> xs) => FaasEvents.Bench.Stats.Percentile(xs, 50);

static double Percentile(List<double> xs, double p) => FaasEvents.Bench.Stats.Percentile(xs, p);

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

string ArgS(string name, string fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
