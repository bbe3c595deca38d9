using System.Diagnostics;
using System.Globalization;
using System.Text;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using FaasEvents.Server;
using FaasEvents.Server.Scaling.Grpc;
using FaasEvents.TestSupport;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// How costs grow (issue 19 item 6): produce throughput and Append Blocks vs partitions (1..256), and the scaler's
/// GetMetrics time and storage requests vs partitions and consumer groups (1..100), uncached, as KEDA's polling would
/// ask for every ScaledObject once per interval, and a materializer's restore time vs table size. Plots beside the tables.
/// </summary>
internal static class GrowthBench
{
    private static readonly int[] PartitionCounts = [1, 4, 16, 64, 256];
    private static readonly int[] GroupCounts = [1, 10, 100];
    private static readonly int[] TableSizes = [1_000, 10_000, 100_000, 1_000_000];
    private static long consumed;

    public static class ConsumeFunctions
    {
        [FaasEvents.Functions.Function("growth-consume")]
        public static void Run([FaasEvents.Functions.EventTrigger("growth-consume")] LogEvent e) => Interlocked.Increment(ref consumed);
    }

    public static async Task RunAsync(string storage, string root, string outDir, int events)
    {
        var md = new StringBuilder();
        md.AppendLine("# How costs grow");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Commit {BenchApp.Commit(root)}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, Azurite (npm, in memory). Command: `dotnet run -c Release --project bench/FaasEvents.Bench -- growth [--events {events}]`.");
        md.AppendLine();

        // 1. Produce vs partitions.
        md.AppendLine(CultureInfo.InvariantCulture, $"## Produce vs partitions: {events:N0} unkeyed 1 KiB events, `SendBatchAsync` calls of 5,000, all in flight");
        md.AppendLine();
        md.AppendLine("| partitions | events/s | Append Blocks | events per Append Block |");
        md.AppendLine("| ---: | ---: | ---: | ---: |");
        var produce = new List<(int Partitions, double Rate)>();
        foreach (int partitions in PartitionCounts)
        {
            var counter = new StorageRequestCounter();
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = $"growth-{DateTime.UtcNow:HHmmssfff}", StorageOptions = counter.CreateOptions() });
            await log.CreateStreamAsync(new StreamDefinition { Name = "g", Partitions = partitions });
            byte[] data = new byte[1024];
            Random.Shared.NextBytes(data);
            List<List<LogEvent>> calls = [.. Enumerable.Range(0, (events + 4999) / 5000).Select(c => Enumerable.Range(c * 5000, Math.Min(5000, events - (c * 5000))).Select(i => new LogEvent("e" + i.ToString(CultureInfo.InvariantCulture), "/bench", "g") { Data = new BinaryData(data) }).ToList())];
            await using (EventProducerClient producer = log.CreateProducer("g"))
            {
                var sw = Stopwatch.StartNew();
                await Task.WhenAll(calls.Select(c => producer.SendBatchAsync(c)));
                double rate = events / sw.Elapsed.TotalSeconds;
                int appends = counter.ByOperation.GetValueOrDefault("AppendBlock");
                produce.Add((partitions, rate));
                md.AppendLine(CultureInfo.InvariantCulture, $"| {partitions} | {rate:N0} | {appends:N0} | {events / (double)Math.Max(1, appends):0.0} |");
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"produce, {partitions} partitions: {rate:N0} events/s, {appends} Append Blocks");
            }

            await log.Container.DeleteAsync();
        }

        // 1b. Consume vs partitions.
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Consume vs partitions: a backlog of {events:N0} events, one instance with a no-op handler (maxBatchSize 100, checkpoint every 10 batches), from its start to the last event");
        md.AppendLine();
        md.AppendLine("| partitions | events/s | seconds |");
        md.AppendLine("| ---: | ---: | ---: |");
        var consume = new List<(int Partitions, double Rate)>();
        foreach (int partitions in PartitionCounts)
        {
            string container = $"growth-c-{DateTime.UtcNow:HHmmssfff}";
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
            await log.CreateStreamAsync(new StreamDefinition { Name = "growth-consume", Partitions = partitions });
            await using (EventProducerClient producer = log.CreateProducer("growth-consume"))
            {
                await Task.WhenAll(Enumerable.Range(0, (events + 4999) / 5000).Select(c => producer.SendBatchAsync(Enumerable.Range(c * 5000, Math.Min(5000, events - (c * 5000))).Select(i => new LogEvent("c" + i.ToString(CultureInfo.InvariantCulture), "/bench", "g") { Data = BinaryData.FromString("{}") }))));
            }

            Interlocked.Exchange(ref consumed, 0);
            var sw = Stopwatch.StartNew();
            await using (FaasEvents.Functions.FunctionsApp app = BenchApp.Build(storage, container, 100, 10, "00:00:00.100", typeof(ConsumeFunctions)))
            {
                await app.StartAsync();
                while (Interlocked.Read(ref consumed) < events && sw.Elapsed < TimeSpan.FromMinutes(5))
                {
                    await Task.Delay(5);
                }

                double seconds = sw.Elapsed.TotalSeconds;
                await app.StopAsync();
                double rate = Interlocked.Read(ref consumed) / seconds;
                consume.Add((partitions, rate));
                md.AppendLine(CultureInfo.InvariantCulture, $"| {partitions} | {rate:N0} | {seconds:0.0}{(Interlocked.Read(ref consumed) < events ? " (stopped at 5 minutes)" : "")} |");
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"consume, {partitions} partitions: {rate:N0} events/s in {seconds:0.0} s");
            }

            await log.Container.DeleteAsync();
        }

        // 2. Scaler vs partitions and groups.
        md.AppendLine();
        md.AppendLine("## Scaler vs partitions and consumer groups: one GetMetrics per group (a KEDA polling round), lag cache off");
        md.AppendLine();
        md.AppendLine("| partitions | groups | round ms, p50 | round ms, p99 | storage requests per round |");
        md.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
        var scaler = new List<(int Partitions, int Groups, double P50)>();
        foreach (int partitions in PartitionCounts)
        {
            var counter = new StorageRequestCounter();
            string container = $"growth-s-{DateTime.UtcNow:HHmmssfff}";
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
            await log.CreateStreamAsync(new StreamDefinition { Name = "wide", Partitions = partitions });
            await using (EventProducerClient p = log.CreateProducer("wide"))
            {
                await Task.WhenAll(Enumerable.Range(0, partitions).Select(i => p.SendBatchAsync(Enumerable.Range(0, 10).Select(n => new LogEvent($"{i}-{n}", "/b", "t")), i)));
            }

            int http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();
            await using WebApplication app = ServerApp.Build(["--http-port", $"{http}", "--grpc-port", $"{grpc}", $"--FAAS_STORAGE={storage}", $"--FAAS_CONTAINER={container}", "--FAAS_LAG_CACHE_MS=0", "--FAAS_LAG_IDLE_MAX=00:00:00", "--Logging:LogLevel:Default=Warning"], b => b.Services.AddSingleton(counter.CreateOptions()));
            await app.StartAsync();
            using GrpcChannel channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpc}");
            var client = new ExternalScaler.ExternalScalerClient(channel);
            foreach (int groups in GroupCounts)
            {
                GetMetricsRequest[] requests = [.. Enumerable.Range(0, groups).Select(g =>
                {
                    var r = new ScaledObjectRef { Name = $"so-{g}" };
                    r.ScalerMetadata["stream"] = "wide";
                    r.ScalerMetadata["consumerGroup"] = $"group-{g}";
                    return new GetMetricsRequest { ScaledObjectRef = r };
                })];
                await Task.WhenAll(requests.Select(r => client.GetMetricsAsync(r).ResponseAsync)); // warm
                var times = new List<double>();
                int before = counter.Total;
                const int rounds = 10;
                for (int i = 0; i < rounds; i++)
                {
                    var sw = Stopwatch.StartNew();
                    await Task.WhenAll(requests.Select(r => client.GetMetricsAsync(r).ResponseAsync));
                    times.Add(sw.Elapsed.TotalMilliseconds);
                }

                double perRound = (counter.Total - before) / (double)rounds;
                scaler.Add((partitions, groups, Stats.Percentile(times, 50)));
                md.AppendLine(CultureInfo.InvariantCulture, $"| {partitions} | {groups} | {Stats.Percentile(times, 50):0.0} | {Stats.Percentile(times, 99):0.0} | {perRound:0.0} |");
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"scaler, {partitions} partitions, {groups} groups: p50 {Stats.Percentile(times, 50):0.0} ms per round, {perRound:0.0} requests per round");
            }

            await app.StopAsync();
            await log.Container.DeleteAsync();
        }

        // 3. Materializer restore vs table size.
        md.AppendLine();
        md.AppendLine("## Materializer restore vs table size: one committed snapshot of N keys (JSON values of ~20 B), restored by a new owner");
        md.AppendLine();
        md.AppendLine("| keys | snapshot MiB | restore s | keys per second |");
        md.AppendLine("| ---: | ---: | ---: | ---: |");
        var restores = new List<(int Keys, double Seconds)>();
        foreach (int keys in TableSizes)
        {
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = $"growth-r-{DateTime.UtcNow:HHmmssfff}" });
            await log.Container.CreateIfNotExistsAsync();
            PartitionLease lease = (await log.CreateLeaseClient("bench").TryAcquireAsync("mat", "table", 0, TimeSpan.FromSeconds(60)))!;
            var table = new Dictionary<string, BinaryData>(keys, StringComparer.Ordinal);
            for (int i = 0; i < keys; i++)
            {
                table[$"key-{i:D7}"] = BinaryData.FromString($"{{\"q\":{i % 1000},\"w\":{i % 17}}}");
            }

            await log.CreateStateStore("mat", "table", 0).CommitSnapshotAsync(table, keys, lease);
            long bytes = 0;
            await foreach (Azure.Storage.Blobs.Models.BlobItem b in log.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "state/mat/", default))
            {
                bytes += b.Properties.ContentLength ?? 0;
            }

            var times = new List<double>();
            for (int round = 0; round < 3; round++)
            {
                var sw = Stopwatch.StartNew();
                RestoredState restored = await log.CreateStateStore("mat", "table", 0).RestoreAsync();
                times.Add(sw.Elapsed.TotalSeconds);
                if (restored.Table.Count != keys)
                {
                    throw new InvalidOperationException($"restore returned {restored.Table.Count} of {keys} keys");
                }
            }

            double median = Stats.Percentile(times, 50);
            restores.Add((keys, median));
            md.AppendLine(CultureInfo.InvariantCulture, $"| {keys:N0} | {bytes / 1048576.0:0.0} | {median:0.000} | {keys / median:N0} |");
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"restore, {keys:N0} keys: {median:0.000} s (median of 3)");
            await log.Container.DeleteAsync();
        }

        md.AppendLine();
        md.AppendLine("![produce vs partitions](growth-produce.png) ![scaler vs partitions and groups](growth-scaler.png) ![restore vs table size](growth-restore.png) ![consume vs partitions](growth-consume.png)");
        md.AppendLine();
        md.AppendLine("Not measured yet (issue 19 item 6): wake from zero vs backlog size.");
        Directory.CreateDirectory(outDir);
        SaveLine(restores.Select(r => (Math.Log10(r.Keys), r.Seconds)), "keys in the table (log10)", "restore seconds (median of 3)", "Materializer restore vs table size", Path.Combine(outDir, "growth-restore.png"));
        SaveLine(consume.Select(c => (Math.Log2(c.Partitions), c.Rate)), "partitions (log2)", "events/s consumed (one instance)", "Consume vs partitions", Path.Combine(outDir, "growth-consume.png"));
        SaveLine(produce.Select(p => (Math.Log2(p.Partitions), p.Rate)), "partitions (log2)", "events/s produced", "Produce vs partitions", Path.Combine(outDir, "growth-produce.png"));
        PlotScaler(scaler, Path.Combine(outDir, "growth-scaler.png"));
        await File.WriteAllTextAsync(Path.Combine(outDir, "growth.md"), md.ToString());
        AnsiConsole.WriteLine(md.ToString());
    }

    /// <summary>One line (x, y) with its axis labels and title, as a 640x420 PNG.</summary>
    private static void SaveLine(IEnumerable<(double X, double Y)> points, string xLabel, string yLabel, string title, string path)
    {
        var plot = new ScottPlot.Plot();
        double[] xs = [.. points.Select(p => p.X)];
        double[] ys = [.. points.Select(p => p.Y)];
        plot.Add.Scatter(xs, ys);
        plot.Axes.Bottom.Label.Text = xLabel;
        plot.Axes.Left.Label.Text = yLabel;
        plot.Title(title);
        plot.SavePng(path, 640, 420);
    }

    private static void PlotScaler(List<(int Partitions, int Groups, double P50)> scaler, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (int groups in GroupCounts)
        {
            var line = scaler.Where(s => s.Groups == groups).ToList();
            double[] gx = [.. line.Select(s => Math.Log2(s.Partitions))];
            double[] gy = [.. line.Select(s => s.P50)];
            ScottPlot.Plottables.Scatter sc = plot.Add.Scatter(gx, gy);
            sc.LegendText = $"{groups} group(s)";
        }

        plot.Axes.Bottom.Label.Text = "partitions (log2)";
        plot.Axes.Left.Label.Text = "ms per KEDA round (p50)";
        plot.Title("Scaler GetMetrics vs partitions");
        plot.ShowLegend();
        plot.SavePng(path, 640, 420);
    }
}
