using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using FaasEvents.Functions;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// Queue consumption (issue 17): events/s for 1, 2, 4 and 8 instances on a 2-partition stream with a handler that waits
/// 20 ms per event (I/O-bound work), consumed as a stream (one instance per partition at a time, one event at a time)
/// and as a queue (every instance on every partition, with maxConcurrentCalls 1 and 16), with the storage requests per
/// event of the queue runs. Instances are function apps in this process, each with its own storage clients.
/// </summary>
internal static class QueueBench
{
    private static readonly int[] InstanceCounts = [1, 2, 4, 8];
    private static readonly ConcurrentDictionary<string, byte> Handled = new(StringComparer.Ordinal);

    public static class StreamJobs
    {
        [Function("qb-stream")]
        public static Task Handle([EventTrigger("qb-jobs")] LogEvent e, CancellationToken cancellationToken) => Work(e, cancellationToken);
    }

    public static class QueueJobs
    {
        [Function("qb-queue")]
        public static Task Handle([EventTrigger("qb-jobs", Mode = Consumption.Queue)] LogEvent e, CancellationToken cancellationToken) => Work(e, cancellationToken);
    }

    private static async Task Work(LogEvent e, CancellationToken cancellationToken)
    {
        await Task.Delay(20, cancellationToken);
        Handled[e.Id] = 0;
    }

    public static async Task RunAsync(string storage, string root, string outDir, int rounds)
    {
        var rows = new List<(string Mode, int Instances, int Events, List<double> Rates, double RequestsPerEvent, double StorageCpu)>();
        foreach ((string mode, Type functions, int calls) in new[] { ("stream", typeof(StreamJobs), 1), ("queue, maxConcurrentCalls 1", typeof(QueueJobs), 1), ("queue, maxConcurrentCalls 16", typeof(QueueJobs), 16) })
        {
            foreach (int instances in InstanceCounts)
            {
                double ideal = 50.0 * calls * (mode == "stream" ? Math.Min(instances, 2) : instances);
                int events = (int)Math.Clamp(ideal * 4, 400, 20_000); // about 4 s of work at the ideal rate
                var rates = new List<double>();
                double requests = 0, cpu = 0;
                for (int round = 0; round < rounds; round++)
                {
                    (double rate, double perEvent, double storageCpu) = await RunOnceAsync(storage, functions, instances, calls, events);
                    rates.Add(rate);
                    requests = perEvent;
                    cpu = storageCpu;
                    AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{mode}, {instances} instance(s), round {round + 1}: {rate:N0} events/s, {perEvent:0.00} requests/event, Azurite CPU {storageCpu:P0}");
                }

                rows.Add((mode, instances, events, rates, requests, cpu));
            }
        }

        Directory.CreateDirectory(outDir);
        var md = new StringBuilder();
        md.AppendLine("# Queue consumption: throughput past the partition count");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}. Commit {BenchApp.Commit(root)}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/FaasEvents.Bench -- queue [--rounds {rounds}]` (starts its own in-memory Azurite).");
        md.AppendLine();
        md.AppendLine("A 2-partition stream of 1 KiB events (keyed, so both partitions hold half); the handler waits 20 ms per event (I/O-bound work, e.g. a mail server's round trip). Instances are function apps in one process (2 cores), started together on a backlog; the time runs from their start until every event was handled, so it includes claiming partitions (stream) or the first acquisitions (queue). Requests per event: every storage request of the instances (acquire + settle, reads of events, listings of ends) over the events.");
        md.AppendLine();
        md.AppendLine("| consumption | instances | events | events/s (median) | range | requests/event | Azurite CPU (last round) |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach ((string mode, int instances, int events, List<double> rates, double requests, double cpu) in rows)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {mode} | {instances} | {events:N0} | {Stats.Percentile(rates, 50):N0} | {rates.Min():N0}-{rates.Max():N0} | {(mode == "stream" ? "-" : requests.ToString("0.00", CultureInfo.InvariantCulture))} | {(cpu < 0 ? "-" : cpu.ToString("P0", CultureInfo.InvariantCulture))} |");
        }

        md.AppendLine();
        md.AppendLine("![events/s vs instances](queue.png)");
        md.AppendLine();
        md.AppendLine("As a stream the group runs one event at a time per partition: 2 partitions cap it near 100 events/s whatever the instance count. As a queue every instance takes events from both partitions: with maxConcurrentCalls 1 each instance adds one handler's worth (50 events/s) past the partition count. With 16 calls per instance the storage is the limit: every round is a read and a conditional write of the partition's one queue blob, instances that share a partition collide (a conflict is read again and retried, so requests per event grow with instances), and the emulator is a single Node.js process - the Azurite CPU column shows it near one full core where the curve turns down. On Azure a blob is served by one storage partition too (the scalability targets name up to 500 requests/s for a single page blob), so a queue's rate per stream partition is bounded by its rounds per second times the events per round (prefetch raises the latter); more stream partitions mean more queue blobs.");
        await File.WriteAllTextAsync(Path.Combine(outDir, "queue.md"), md.ToString());

        var plot = new ScottPlot.Plot();
        foreach (IGrouping<string, (string Mode, int Instances, int Events, List<double> Rates, double RequestsPerEvent, double StorageCpu)> line in rows.GroupBy(r => r.Mode))
        {
            ScottPlot.Plottables.Scatter sc = plot.Add.Scatter(line.Select(r => (double)r.Instances).ToArray(), line.Select(r => Stats.Percentile(r.Rates, 50)).ToArray());
            sc.LegendText = line.Key;
        }

        plot.Axes.Bottom.Label.Text = "instances (2 partitions)";
        plot.Axes.Left.Label.Text = "events/s (median)";
        plot.Title("Events/s vs instances, 2 partitions, 20 ms handler");
        plot.ShowLegend();
        plot.SavePng(Path.Combine(outDir, "queue.png"), 640, 420);
        AnsiConsole.WriteLine(md.ToString());
    }

    private static async Task<(double Rate, double RequestsPerEvent, double StorageCpu)> RunOnceAsync(string storage, Type functions, int instances, int calls, int events)
    {
        string container = "qb" + Guid.NewGuid().ToString("N")[..10];
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
        await log.CreateStreamAsync(new StreamDefinition { Name = "qb-jobs", Partitions = 2 });
        string padding = new('x', 1000);
        await using (EventProducerClient producer = log.CreateProducer("qb-jobs"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, events).Select(i => new LogEvent("j" + i.ToString(CultureInfo.InvariantCulture), "/bench", "job") { PartitionKey = "k" + i.ToString(CultureInfo.InvariantCulture), Data = BinaryData.FromString(padding) }).ToList());
        }

        Handled.Clear();
        var counter = new StorageRequestCounter();
        string hostJson = Path.Combine(Path.GetTempPath(), $"bench-queue-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(hostJson, $$"""
            { "version": "2.0", "logging": { "logLevel": { "default": "Warning" } },
              "extensions": { "eventLog": { "maxBatchSize": 1, "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050",
                "queue": { "maxConcurrentCalls": {{calls}} } } } }
            """);
        var apps = new List<FunctionsApp>();
        for (int i = 0; i < instances; i++)
        {
            FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(["--port", "0", "--host-json", hostJson, "--instance-id", $"bench-{i}"]);
            builder.Configuration["FAAS_STORAGE"] = storage;
            builder.Configuration["FAAS_CONTAINER"] = container;
            builder.Services.AddSingleton(counter.CreateOptions());
            builder.AddFunctions(functions);
            apps.Add(builder.Build());
        }

        var sw = Stopwatch.StartNew();
        double cpuBefore = StorageCpuSeconds();
        await Task.WhenAll(apps.Select(a => a.StartAsync()));
        while (Handled.Count < events)
        {
            await Task.Delay(10);
        }

        double seconds = sw.Elapsed.TotalSeconds;
        double cpu = cpuBefore < 0 ? -1 : (StorageCpuSeconds() - cpuBefore) / seconds;
        int requests = counter.Total;
        foreach (FunctionsApp app in apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        await log.Container.DeleteAsync();
        return (events / seconds, (double)requests / events, cpu);
    }

    /// <summary>CPU seconds the Azurite blob process has used (-1 where /proc is not there): the emulator is one Node.js process, so near 100% of one core it is the limit.</summary>
    private static double StorageCpuSeconds()
    {
        try
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                string cmdline = Path.Combine(dir, "cmdline");
                if (!File.Exists(cmdline) || !File.ReadAllText(cmdline).Contains("azurite", StringComparison.Ordinal))
                {
                    continue;
                }

                string[] stat = File.ReadAllText(Path.Combine(dir, "stat")).Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return (long.Parse(stat[11], CultureInfo.InvariantCulture) + long.Parse(stat[12], CultureInfo.InvariantCulture)) / 100.0; // utime + stime, in clock ticks (100/s)
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return -1;
    }
}
