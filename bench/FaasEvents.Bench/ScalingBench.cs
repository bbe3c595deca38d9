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
    /// <summary>
    /// Runs every section into scaling.md; with <paramref name="wakeOnly"/> only the wake-from-zero sections, into
    /// <c>scaling-wake-{label}.md</c> (e.g. before/after a cold-start change).
    /// </summary>
    public static async Task RunAsync(string root, string outDir, string config, bool wakeOnly = false, string label = "latest", string? appDll = null)
    {
        string faas = Path.Combine(root, "src", "FaasEvents.Cli", "bin", config, "net10.0", "faas.dll");
        string server = Path.Combine(root, "src", "FaasEvents.Server", "bin", config, "net10.0", "FaasEvents.Server.dll");
        string app = appDll ?? Path.Combine(root, "functions", "FaasEvents.Samples", "bin", config, "net10.0", "FaasEvents.Samples.dll"); // --app-dll: e.g. a ReadyToRun publish
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Control-plane benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, Azurite in memory, everything on this machine.");
        md.AppendLine();

        // 1. Wake from zero.
        md.AppendLine("| wake from zero: ingress POST -> event-display in a freshly started instance | p50 s | max s | tries |");
        md.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (bool push in new[] { true, false })
        {
            List<double> wakes = await WakeFromZeroAsync(faas, server, app, push, tries: 10);
            string mode = push ? "StreamIsActive push (external-push), polling 2 s" : "polling only (external), polling 2 s";
            md.AppendLine(CultureInfo.InvariantCulture, $"| {mode} | {Percentile(wakes, 50):0.00} | {wakes.Max():0.00} | {wakes.Count} |");
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"wake from zero, {mode}: p50 {Percentile(wakes, 50):0.00} s, max {wakes.Max():0.00} s ({string.Join(", ", wakes.Select(w => w.ToString("0.00", CultureInfo.InvariantCulture)))})");
        }

        // 1b. Wake from zero vs backlog size.
        md.AppendLine();
        md.AppendLine(await WakeVersusBacklogAsync(root, faas, server, app));

        if (wakeOnly)
        {
            Directory.CreateDirectory(outDir);
            md.Insert(0, $"# Wake from zero ({label}), commit {BenchApp.Commit(root)}\n\nCommand: `dotnet run -c Release --project bench/FaasEvents.Bench -- scaling --wake-only --label {label}`.\n\n");
            await File.WriteAllTextAsync(Path.Combine(outDir, $"scaling-wake-{label}.md"), md.ToString());
            AnsiConsole.WriteLine(md.ToString());
            return;
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

        // 4. Cold start before/after: the labelled wake-only runs committed beside this file.
        md.AppendLine(WakeRuns(outDir));
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
            await dev.WaitUntilAsync(() => dev.AllStopped, 60); // a fresh instance, not one racing a stopping one for the leases
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

    /// <summary>
    /// Wake from zero with a backlog waiting (issue 19 item 6): a direct producer (with <c>FAAS_SERVER_URL</c>, so its
    /// appends are announced) appends N orders at once to an 8-partition stream whose function (order-audit, one output
    /// per order) is at zero instances; from the first append: the first instance started, the first output written
    /// (the first batch handled), and the last output written (the backlog drained), three tries per size.
    /// </summary>
    private static async Task<string> WakeVersusBacklogAsync(string root, string faas, string server, string app)
    {
        const int partitions = 8, tries = 3;
        int[] backlogs = [1, 1_000, 10_000, 100_000];
        await using AzuriteProcess azurite = await AzuriteProcess.StartAsync(root);
        int http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ServerUrl = new Uri($"http://127.0.0.1:{http}") });
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = partitions });
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders.audit", Partitions = partitions });
        await using var dev = DevProcess.Start(faas, ["dev", "--port", $"{azurite.BlobPort}", "--http-port", $"{http}", "--grpc-port", $"{grpc}", "--polling-interval", "2", "--cooldown", "2", "--ping-schedule", "off", "--functions", "order-audit", "--server-dll", server, "--app-dll", app]);
        await dev.WaitForAsync("ready: Ctrl+C stops everything", 120);

        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"| wake from zero with a backlog: N orders appended at once by a direct producer (announced) to {partitions} partitions, order-audit at zero instances, polling 2 s, lagThreshold 100 | append s | first instance s | first output s | drained s | peak instances |");
        sb.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        long written = 0;
        int n = 0;
        foreach (int backlog in backlogs)
        {
            var appendS = new List<double>();
            var instanceS = new List<double>();
            var firstS = new List<double>();
            var drainedS = new List<double>();
            int peak = 0;
            for (int t = 0; t < tries; t++)
            {
                await dev.WaitUntilAsync(() => dev.AllStopped, 120);
                await Task.Delay(Random.Shared.Next(200, 1500));
                double instance = -1, first = -1;
                var sw = Stopwatch.StartNew();
                Task produce = Task.Run(async () =>
                {
                    await using EventProducerClient p = log.CreateProducer("orders");
                    for (int i = 0; i < backlog; i += 10_000)
                    {
                        int count = Math.Min(10_000, backlog - i), from = n + i;
                        await p.SendBatchAsync(Enumerable.Range(from, count).Select(k => new LogEvent($"w{k}", "/bench", "order") { PartitionKey = $"c{k % 1000}", DataContentType = "application/json", Data = BinaryData.FromString($"{{\"orderId\":\"w{k}\",\"customer\":\"c{k % 1000}\",\"amount\":{k % 100}}}") }));
                    }
                });
                n += backlog;
                double appended = -1;
                while (sw.Elapsed < TimeSpan.FromMinutes(5))
                {
                    if (produce.IsCompleted && appended < 0)
                    {
                        await produce;
                        appended = sw.Elapsed.TotalSeconds;
                    }

                    peak = Math.Max(peak, dev.Instances);
                    if (instance < 0 && dev.Instances > 0)
                    {
                        instance = sw.Elapsed.TotalSeconds;
                    }

                    long outputs = (await log.GetPartitionsAsync("orders.audit")).Sum(p => p.EndOffset) - written;
                    if (first < 0 && outputs > 0)
                    {
                        first = sw.Elapsed.TotalSeconds;
                    }

                    if (appended >= 0 && outputs >= backlog)
                    {
                        drainedS.Add(sw.Elapsed.TotalSeconds);
                        break;
                    }

                    await Task.Delay(20);
                }

                written += backlog;
                appendS.Add(appended);
                instanceS.Add(instance);
                firstS.Add(first);
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"wake with a backlog of {backlog:N0}: appended {appended:0.00} s, first instance {instance:0.00} s, first output {first:0.00} s, drained {(drainedS.Count > t ? drainedS[t] : double.NaN):0.00} s");
            }

            sb.AppendLine(CultureInfo.InvariantCulture, $"| {backlog:N0} | {Range(appendS)} | {Range(instanceS)} | {Range(firstS)} | {Range(drainedS)} | {peak} |");
        }

        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Each cell: median (min-max) of {tries} tries, seconds from the first append; a try waits for 0 instances first.");
        return sb.ToString();
    }

    /// <summary>One row per committed <c>scaling-wake-{label}.md</c>: its commit, push wake and one-event wake with a backlog of 1.</summary>
    private static string WakeRuns(string outDir)
    {
        var sb = new StringBuilder("\n## Cold start: wake-only runs (`scaling --wake-only --label NAME`)\n\n| run | commit | wake from zero, push: p50 (max) s | order-audit, backlog of 1: first output, median (range) s |\n| --- | --- | ---: | ---: |\n");
        foreach (string file in Directory.EnumerateFiles(outDir, "scaling-wake-*.md").Order(StringComparer.Ordinal))
        {
            string[] lines = File.ReadAllLines(file);
            string commit = lines.FirstOrDefault(l => l.StartsWith("# Wake from zero", StringComparison.Ordinal))?.Split("commit ").LastOrDefault() ?? "?";
            string[]? push = lines.FirstOrDefault(l => l.StartsWith("| StreamIsActive push", StringComparison.Ordinal))?.Split('|', StringSplitOptions.TrimEntries);
            string[]? one = lines.FirstOrDefault(l => l.StartsWith("| 1 |", StringComparison.Ordinal))?.Split('|', StringSplitOptions.TrimEntries);
            string label = Path.GetFileNameWithoutExtension(file)["scaling-wake-".Length..];
            sb.AppendLine(CultureInfo.InvariantCulture, $"| [{label}]({Path.GetFileName(file)}) | {commit} | {(push is null ? "?" : $"{push[2]} ({push[3]})")} | {(one is null ? "?" : one[4])} |");
        }

        return sb.ToString();
    }

    private static string Range(List<double> xs) => xs.Count == 0 ? "not reached" : string.Create(CultureInfo.InvariantCulture, $"{Percentile(xs, 50):0.00} ({xs.Min():0.00}-{xs.Max():0.00})");

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
        private int started;
        private int stopped;

        private DevProcess(Process process) => this.process = process;

        public int Instances { get; private set; }

        /// <summary>True when every instance started has also exited (a stopping one no longer holds its leases).</summary>
        public bool AllStopped => Instances == 0 && started == stopped;

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
                int from = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), to = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                Interlocked.Add(ref started, Math.Max(0, to - from));
                Instances = to;
            }

            if (StoppedLine().IsMatch(line))
            {
                Interlocked.Increment(ref stopped);
            }
        }

        [GeneratedRegex(@"autoscaler: (\d+) -> (\d+) instance")]
        private static partial Regex ScaledLine();

        [GeneratedRegex(@"instance dev-\d+ stopped")]
        private static partial Regex StoppedLine();
    }
}
