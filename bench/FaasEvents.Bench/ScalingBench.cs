using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Server;
using FaasEvents.Server.Scaling.Grpc;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// Control-plane targets: wake from zero (ingress POST -> handler in a fresh instance, push vs polling only),
/// scale out and in over a 100,000-event backlog, and the scaler's storage cost per GetMetrics.
/// </summary>
internal static partial class ScalingBench
{
    public static async Task RunAsync(string root, string outDir, string config)
    {
        string faas = Path.Combine(root, "src", "FaasEvents.Cli", "bin", config, "net10.0", "faas.dll");
        string server = Path.Combine(root, "src", "FaasEvents.Server", "bin", config, "net10.0", "FaasEvents.Server.dll");
        string app = Path.Combine(root, "functions", "FaasEvents.Samples", "bin", config, "net10.0", "FaasEvents.Samples.dll");
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Control-plane benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, Azurite in memory, everything on this machine.");
        md.AppendLine();

        // 1. Wake from zero.
        md.AppendLine("| wake from zero: ingress POST -> event-display in a freshly started instance | p50 s | max s | tries |");
        md.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (bool push in new[] { true, false })
        {
            List<double> wakes = await WakeFromZeroAsync(faas, server, app, push, tries: 10);
            string label = push ? "StreamIsActive push (external-push), polling 2 s" : "polling only (external), polling 2 s";
            md.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {Percentile(wakes, 50):0.00} | {wakes.Max():0.00} | {wakes.Count} |");
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"wake from zero, {label}: p50 {Percentile(wakes, 50):0.00} s, max {wakes.Max():0.00} s ({string.Join(", ", wakes.Select(w => w.ToString("0.00", CultureInfo.InvariantCulture)))})");
        }

        // 2. Scale out and in.
        (List<(double T, long Lag, int Instances)> series, string summary) = await ScaleOutInAsync(root, faas, server, app);
        md.AppendLine();
        md.AppendLine(summary);
        md.AppendLine();
        md.AppendLine("![lag and instances over time](scaling.png)");
        Plot(series, Path.Combine(outDir, "scaling.png"));

        // 3. Scaler cost.
        md.AppendLine();
        md.AppendLine(await ScalerCostAsync(root));
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "scaling.md"), md.ToString());
        AnsiConsole.WriteLine(md.ToString());
    }

    /// <summary>
    /// Ingress POST -> handler start in a freshly started instance under <c>faas dev</c>, <paramref name="tries"/> times;
    /// on its own in-memory Azurite, or on whatever listens on <paramref name="storagePort"/> (e.g. a <see cref="DelayProxy"/>).
    /// </summary>
    internal static async Task<List<double>> WakeFromZeroAsync(string faas, string server, string app, bool push, int tries, int? storagePort = null)
    {
        int storage = storagePort ?? AzuriteProcess.GetFreePort(), http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();
        string run = Guid.NewGuid().ToString("N")[..6]; // event ids unique per run: a reused storage keeps the ingress's repeat window
        await using var dev = DevProcess.Start(faas, ["dev", "--in-memory", "--port", $"{storage}", "--http-port", $"{http}", "--grpc-port", $"{grpc}", "--polling-interval", "2", "--cooldown", "2", "--ping-schedule", "off", "--functions", "event-display", "--server-dll", server, "--app-dll", app, .. (push ? Array.Empty<string>() : ["--no-push"])]);
        await dev.WaitForAsync("ready: Ctrl+C stops everything", 120);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") };
        var wakes = new List<double>();
        for (int i = 0; i < tries; i++)
        {
            await dev.WaitUntilAsync(() => dev.Instances == 0, 60);
            await Task.Delay(Random.Shared.Next(200, 1500)); // land anywhere in the polling cycle
            string id = $"wake-{run}-{i}";
            using var content = new StringContent($"{{\"specversion\":\"1.0\",\"id\":\"{id}\",\"source\":\"/bench\",\"type\":\"wake\",\"data\":{{}}}}", Encoding.UTF8, "application/cloudevents+json");
            var sw = Stopwatch.StartNew();
            (await client.PostAsync(new Uri("/streams/ping/events", UriKind.Relative), content)).EnsureSuccessStatusCode();
            await dev.WaitForAsync($"id: {id}", 60);
            wakes.Add(sw.Elapsed.TotalSeconds);
        }

        return wakes;
    }

    private static async Task<(List<(double, long, int)>, string)> ScaleOutInAsync(string root, string faas, string server, string app)
    {
        const int total = 100_000, partitions = 8, threshold = 1000;
        await using AzuriteProcess azurite = await AzuriteProcess.StartAsync(root);
        var log = new EventLogClient(azurite.ConnectionString);
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = partitions });
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders.audit", Partitions = partitions });
        int http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();
        await using var dev = DevProcess.Start(faas, ["dev", "--port", $"{azurite.BlobPort}", "--http-port", $"{http}", "--grpc-port", $"{grpc}", "--lag-threshold", $"{threshold}", "--polling-interval", "2", "--cooldown", "10", "--ping-schedule", "off", "--functions", "order-audit", "--server-dll", server, "--app-dll", app]);
        await dev.WaitForAsync("ready: Ctrl+C stops everything", 120);

        var series = new List<(double, long, int)>();
        var sw = Stopwatch.StartNew();
        Task produce = Task.Run(async () =>
        {
            await using EventProducerClient p = log.CreateProducer("orders");
            for (int i = 0; i < total; i += 5000)
            {
                await p.SendBatchAsync(Enumerable.Range(i, 5000).Select(n => new LogEvent($"o{n}", "/bench", "order") { PartitionKey = $"c{n % 1000}", DataContentType = "application/json", Data = BinaryData.FromString($"{{\"orderId\":\"o{n}\",\"customer\":\"c{n % 1000}\",\"amount\":{n % 100}}}") }));
            }
        });
        int peak = 0;
        double drainedAt = -1, zeroAt = -1;
        while (sw.Elapsed < TimeSpan.FromMinutes(6))
        {
            long lag = (await log.GetLagAsync("orders", "order-audit")).TotalLag;
            int instances = dev.Instances;
            peak = Math.Max(peak, instances);
            series.Add((sw.Elapsed.TotalSeconds, lag, instances));
            if (produce.IsCompleted && lag == 0 && drainedAt < 0)
            {
                drainedAt = sw.Elapsed.TotalSeconds;
            }

            if (drainedAt >= 0 && instances == 0)
            {
                zeroAt = sw.Elapsed.TotalSeconds;
                break;
            }

            await Task.Delay(1000);
        }

        await produce;
        string summary = string.Create(CultureInfo.InvariantCulture, $"Scale out and in: {total:N0} orders appended at once to an {partitions}-partition stream, one function (order-audit), lagThreshold {threshold:N0}, polling 2 s, cooldown 10 s: peak **{peak} instances** (cap = partitions), backlog drained after **{drainedAt:0} s**, back to **0 instances after {zeroAt:0} s**.");
        AnsiConsole.MarkupLine(Markup.Escape(summary));
        return (series, summary);
    }

    private static void Plot(List<(double T, long Lag, int Instances)> series, string path)
    {
        var plot = new ScottPlot.Plot();
        double[] t = series.Select(s => s.T).ToArray();
        var lag = plot.Add.Scatter(t, series.Select(s => (double)s.Lag).ToArray());
        lag.LegendText = "lag (events)";
        var inst = plot.Add.Scatter(t, series.Select(s => (double)s.Instances).ToArray());
        inst.LegendText = "instances";
        inst.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Left.Label.Text = "lag of order-audit (events)";
        plot.Axes.Right.Label.Text = "function app instances";
        plot.Axes.Bottom.Label.Text = "seconds";
        plot.Title("faas dev: 100,000-event backlog, 8 partitions, lagThreshold 1,000");
        plot.ShowLegend();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        plot.SavePng(path, 800, 450);
    }

    private static async Task<string> ScalerCostAsync(string root)
    {
        const int partitions = 64;
        await using AzuriteProcess azurite = await AzuriteProcess.StartAsync(root);
        var counter = new CountingPolicy();
        var storage = new BlobClientOptions();
        storage.AddPolicy(counter, HttpPipelinePosition.PerCall);
        var counted = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { StorageOptions = storage });
        await counted.CreateStreamAsync(new StreamDefinition { Name = "wide", Partitions = partitions });
        await using (EventProducerClient p = counted.CreateProducer("wide"))
        {
            for (int i = 0; i < partitions; i++)
            {
                await p.SendBatchAsync(Enumerable.Range(0, 10).Select(n => new LogEvent($"{i}-{n}", "/b", "t")), i);
            }
        }

        var sb = new StringBuilder("| scaler: GetMetrics on a 64-partition stream | storage requests | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |\n");
        foreach ((string label, string cacheMs) in new[] { ("cached (default, 500 ms)", "500"), ("uncached (every call recomputes)", "0") })
        {
            int http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();
            await using Microsoft.AspNetCore.Builder.WebApplication app = ServerApp.Build(["--http-port", $"{http}", "--grpc-port", $"{grpc}", $"--FAAS_STORAGE={azurite.ConnectionString}", $"--FAAS_LAG_CACHE_MS={cacheMs}", "--Logging:LogLevel:Default=Warning"], b => b.Services.AddSingleton(counted));
            await app.StartAsync();
            using GrpcChannel channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpc}");
            var client = new ExternalScaler.ExternalScalerClient(channel);
            var r = new ScaledObjectRef { Name = "b" };
            r.ScalerMetadata["stream"] = "wide";
            r.ScalerMetadata["consumerGroup"] = "g";
            var req = new GetMetricsRequest { ScaledObjectRef = r };

            counter.Reset();
            await client.GetMetricsAsync(req);
            long cold = counter.Count;
            await Task.Delay(600);
            counter.Reset();
            await client.GetMetricsAsync(req);
            long warmNoChange = counter.Count;
            var times = new List<double>();
            counter.Reset();
            for (int i = 0; i < 200; i++)
            {
                var sw = Stopwatch.StartNew();
                await client.GetMetricsAsync(req);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }

            double perCall = counter.Count / 200.0;
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {label}: first call | {cold} | | |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {label}: nothing changed since the last refresh | {warmNoChange} | | |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {label}: 200 back-to-back calls | {perCall:0.00} per call | {Percentile(times, 50):0.00} | {Percentile(times, 99):0.00} |");
            await app.StopAsync();
        }

        return sb.ToString();
    }

    private static double Percentile(List<double> xs, double p) => Stats.Percentile(xs, p);

    private sealed class CountingPolicy : HttpPipelinePolicy
    {
        private long count;

        public long Count => Interlocked.Read(ref count);

        public void Reset() => Interlocked.Exchange(ref count, 0);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Interlocked.Increment(ref count);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Interlocked.Increment(ref count);
            return ProcessNextAsync(message, pipeline);
        }
    }

    /// <summary>faas dev as a process; tracks the instance count from its "autoscaler: a -> b" lines.</summary>
    private sealed partial class DevProcess : IAsyncDisposable
    {
        private readonly Process process;
        private readonly StringBuilder output = new();

        private DevProcess(Process process) => this.process = process;

        public int Instances { get; private set; }

        public static DevProcess Start(string faas, string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(faas);
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }

            var p = Process.Start(psi)!;
            var dev = new DevProcess(p);
            p.OutputDataReceived += (_, e) => dev.OnLine(e.Data);
            p.ErrorDataReceived += (_, e) => dev.OnLine(e.Data);
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return dev;
        }

        public async Task WaitForAsync(string text, int seconds) => await WaitUntilAsync(() => { lock (output) { return output.ToString().Contains(text, StringComparison.Ordinal); } }, seconds);

        public async Task WaitUntilAsync(Func<bool> condition, int seconds)
        {
            var sw = Stopwatch.StartNew();
            while (!condition())
            {
                if (process.HasExited || sw.Elapsed > TimeSpan.FromSeconds(seconds))
                {
                    throw new TimeoutException("faas dev: condition not met; output:\n" + output);
                }

                await Task.Delay(20);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await process.TerminateAsync(TimeSpan.FromSeconds(90));
            process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            Match m = ScaledLine().Match(line);
            if (m.Success)
            {
                Instances = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }

        [GeneratedRegex(@"autoscaler: \d+ -> (\d+) instance")]
        private static partial Regex ScaledLine();
    }
}
