using System.Diagnostics;
using System.Globalization;
using System.Text;
using FaasEvents.Functions;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// Function runtime benchmark: no-op handler invocations/s vs a raw read loop over the same events with the same
/// checkpoint cadence, and append -> handler start latency at a steady rate with a warm instance.
/// </summary>
internal static class FunctionsBench
{
    private static long handled;

    public static class NoopFunctions
    {
        [Function("bench-noop")]
        public static void Noop([EventTrigger("bench-fn")] LogEvent e) => Interlocked.Increment(ref handled);
    }

    public static async Task RunAsync(string storage, string outDir, int events, int rounds, int latencyEvents, bool allocTypes = false)
    {
        using AllocationSampler? sampler = allocTypes ? new AllocationSampler() : null;
        const int batch = 100, checkpointEvery = 10; // runtime: maxBatchSize 100, batchCheckpointFrequency 10
        var runtimeRuns = new List<double>();
        var rawRuns = new List<double>();
        var gc = new List<(double FnAlloc, double RawAlloc, double FnPause, double RawPause)>();
        for (int round = 0; round <= rounds; round++)
        {
            string container = $"fb{round}-{DateTime.UtcNow:HHmmss}";
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
            await log.CreateStreamAsync(new StreamDefinition { Name = "bench-fn" });
            await using (EventProducerClient p = log.CreateProducer("bench-fn"))
            {
                for (int i = 0; i < events; i += 5000)
                {
                    await p.SendBatchAsync(Enumerable.Range(i, Math.Min(5000, events - i)).Select(n => new LogEvent(n.ToString(CultureInfo.InvariantCulture), "/bench", "noop") { Data = new BinaryData(new byte[100]) }));
                }
            }

            // Raw loop: read every event, batch by batch as stored, and checkpoint at the end of the first stored batch after
            // every batch * checkpointEvery events, as a hand-written consumer would; the runtime does the same (it
            // checkpoints after batchCheckpointFrequency chunks, at the end of the block read, where its outputs are flushed).
            sampler?.Start();
            long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
            TimeSpan pause0 = GC.GetTotalPauseDuration();
            var sw = Stopwatch.StartNew();
            long count = 0, sinceCheckpoint = 0;
            await foreach (IReadOnlyList<StoredEvent> stored in log.ReadBatchesAsync("bench-fn", 0))
            {
                foreach (StoredEvent e in stored)
                {
                    count++;
                    sinceCheckpoint++;
                }

                if (sinceCheckpoint >= batch * checkpointEvery)
                {
                    await log.Checkpoints.UpdateAsync("raw", "bench-fn", 0, stored[^1].Offset + 1);
                    sinceCheckpoint = 0;
                }
            }

            await log.Checkpoints.UpdateAsync("raw", "bench-fn", 0, count);
            double raw = sw.Elapsed.TotalSeconds;
            double rawAlloc = (GC.GetTotalAllocatedBytes(precise: true) - alloc0) / (double)events;
            double rawPause = (GC.GetTotalPauseDuration() - pause0).TotalSeconds / raw;
            IReadOnlyList<(string Type, double Share)>? rawTypes = sampler?.Stop(15);

            Interlocked.Exchange(ref handled, 0);
            await using FunctionsApp app = Build(storage, container, batch, checkpointEvery, "00:00:00.100", typeof(NoopFunctions));
            await app.StartAsync();
            while (Interlocked.Read(ref handled) == 0)
            {
                await Task.Delay(1);
            }

            sw.Restart(); // from the first invocation: excludes start-up and the first lease claim
            long startCount = Interlocked.Read(ref handled);
            sampler?.Start();
            long alloc1 = GC.GetTotalAllocatedBytes(precise: true);
            TimeSpan pause1 = GC.GetTotalPauseDuration();
            while (Interlocked.Read(ref handled) < events)
            {
                await Task.Delay(2);
            }

            double fn = sw.Elapsed.TotalSeconds * events / (events - startCount);
            double fnAlloc = (GC.GetTotalAllocatedBytes(precise: true) - alloc1) / (double)(events - startCount);
            double fnPause = (GC.GetTotalPauseDuration() - pause1).TotalSeconds / sw.Elapsed.TotalSeconds;
            if (sampler is not null)
            {
                Console.WriteLine($"round {round}: allocated by type, sampled (raw loop, then runtime):\n{AllocationSampler.Format(rawTypes!)}\n--\n{AllocationSampler.Format(sampler.Stop(20))}");
            }

            await app.StopAsync();
            if (round > 0)
            {
                rawRuns.Add(raw);
                runtimeRuns.Add(fn);
                gc.Add((fnAlloc, rawAlloc, fnPause, rawPause));
            }

            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"round {round}{(round == 0 ? " (warm-up)" : "")}: runtime {events / fn:N0} inv/s ({fnAlloc:N0} B allocated per event, GC pauses {fnPause:P0} of the time), raw loop {events / raw:N0} events/s ({rawAlloc:N0} B per event, GC pauses {rawPause:P0})");
        }

        if (sampler is not null)
        {
            return; // a profiling run: its timings carry the sampler's cost, so nothing is written
        }

        // Latency: a warm instance at default settings, linger 0.
        List<WarmLatencyBench.Row> latencies = await WarmLatencyBench.RunAsync(storage, latencyEvents);

        double rt = Median(runtimeRuns), rw = Median(rawRuns), ratio = rw / rt;
        var table = new Table().AddColumns("", "events/s", "median of");
        table.AddRow("FaasEvents runtime, no-op handler", $"{events / rt:N0}", $"{rounds} rounds");
        table.AddRow("raw ReadBatchesAsync loop", $"{events / rw:N0}", $"{rounds} rounds");
        table.AddRow("[bold]ratio[/]", $"[bold]{ratio:0.00}x[/]", "target >= 0.80x");
        AnsiConsole.Write(table);
        var lat = new Table().AddColumns("append -> handler start", "rate", "p50 ms", "p99 ms", "events");
        foreach (WarmLatencyBench.Row r in latencies)
        {
            lat.AddRow(Markup.Escape(r.Case), $"1 / {r.Every.TotalMilliseconds:0} ms", $"{Percentile(r.Millis, 50):0.0}", $"{Percentile(r.Millis, 99):0.0}", r.Millis.Count.ToString(CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(lat);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Function runtime benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {events:N0} events of 100 B on 1 partition, maxBatchSize {batch}, checkpoint after every {batch * checkpointEvery} events at the end of the stored batch on both sides, median of {rounds} rounds.");
        md.AppendLine();
        md.AppendLine("| path | events/s |");
        md.AppendLine("| --- | ---: |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| FaasEvents runtime, no-op single-event handler | {events / rt:N0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| raw `ReadBatchesAsync` loop + checkpoints | {events / rw:N0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| **ratio** | **{ratio:0.00}x** |");
        md.AppendLine();
        md.AppendLine("Per-round ratios: " + string.Join(", ", rawRuns.Zip(runtimeRuns, (r, f) => (r / f).ToString("0.00", CultureInfo.InvariantCulture) + "x")) + ".");
        md.AppendLine();
        md.AppendLine(Stats.GcLine(gc, "runtime", "raw loop"));
        md.AppendLine();
        md.AppendLine("Append -> handler start, a warm instance at default settings (pollInterval 100 ms, maxPollInterval 1 s), time from the producer's send to the handler's start (so it includes the append itself):");
        md.AppendLine();
        md.AppendLine("| how the append reaches the instance | rate | p50 ms | p99 ms | events | slowest 5% with a GC pause inside (median pause) | slowest 5%: their append, median ms | slowest 5%: woken by a notice? |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (WarmLatencyBench.Row r in latencies)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Case} | 1 event / {r.Every.TotalMilliseconds:0} ms | {Percentile(r.Millis, 50):0.0} | {Percentile(r.Millis, 99):0.0} | {r.Millis.Count} | {r.SlowestWithGc()} | {r.SlowestSend()} | {r.SlowestStages()} |");
        }

        md.AppendLine();
        md.AppendLine("Instance, server and producer share this process (the producer has its own client and doorbell), so a GC pause of the process delays a probe wherever it falls; Azurite runs in its own process on the same 2 cores.");

        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "functions.md"), md.ToString());
        AnsiConsole.MarkupLine($"Wrote {Markup.Escape(Path.Combine(outDir, "functions.md"))}");
    }

    private static FunctionsApp Build(string storage, string container, int batch, int checkpointEvery, string poll, Type functions) =>
        BenchApp.Build(storage, container, batch, checkpointEvery, poll, functions);

    private static double Median(List<double> xs) => Stats.Percentile(xs, 50);

    private static double Percentile(List<double> xs, double p) => Stats.Percentile(xs, p);
}
