using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// The producer's limit against raw Append Block calls, over event size (1 KiB, 64 KiB), partitions (1, 8) and
/// producers (1, 8): each round the producers send the same bytes, then the raw writers replay exactly the blocks the
/// producers made (same count and sizes per partition, one writer per partition, all partitions at once), so the
/// ratio is the producer's own overhead. Median and range over rounds, rounds interleaved so noise hits both.
/// </summary>
internal static class LimitBench
{
    private sealed record Round(double Producer, double Raw, int Blocks, double ProducerCpu, double RawCpu, long ProducerAlloc, long Conflicts, long WastedBytes);

    /// <summary>Runs every configuration, or only those matching <paramref name="onlySize"/>, <paramref name="onlyPartitions"/>, <paramref name="onlyProducers"/> (0: all; for profiling one).</summary>
    public static async Task RunAsync(string storage, string root, string outDir, int megabytes, int rounds, int onlySize, int onlyPartitions, int onlyProducers)
    {
        var rows = new List<(int Size, int Partitions, int Producers, int Events, List<Round> Rounds)>();
        foreach (int size in new[] { 1024, 64 * 1024 }.Where(s => onlySize == 0 || s == onlySize))
        {
            foreach (int partitions in new[] { 1, 8 }.Where(p => onlyPartitions == 0 || p == onlyPartitions))
            {
                foreach (int producers in new[] { 1, 8 }.Where(p => onlyProducers == 0 || p == onlyProducers))
                {
                    int events = (int)((long)megabytes * 1024 * 1024 / size);
                    var conflicts = new ConflictCounter();
                    var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = $"limit-{DateTime.UtcNow:HHmmssfff}", StorageOptions = conflicts.CreateOptions() });
                    await log.Container.CreateIfNotExistsAsync();
                    var results = new List<Round>();
                    for (int round = 0; round <= rounds; round++)
                    {
                        Round r = await RoundAsync(log, conflicts, $"s{round}", size, partitions, producers, events);
                        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{size / 1024} KiB, {partitions} partition(s), {producers} producer(s), round {round}{(round == 0 ? " (warm-up)" : "")}: producer {megabytes / r.Producer:0.0} MiB/s, raw {megabytes / r.Raw:0.0} MiB/s, ratio {r.Raw / r.Producer:0.00}x, {r.Blocks} blocks, client CPU {r.ProducerCpu * 1000 / megabytes:0.0} / {r.RawCpu * 1000 / megabytes:0.0} ms per MiB, producer allocated {r.ProducerAlloc / megabytes / 1024.0 / 1024:0.00} MiB per MiB, {r.Conflicts} appends refused (412), {r.WastedBytes / 1048576.0:0.0} MiB uploaded in vain");
                        if (round > 0)
                        {
                            results.Add(r);
                        }
                    }

                    await log.Container.DeleteAsync(); // Azurite keeps everything in memory
                    rows.Add((size, partitions, producers, events, results));
                }
            }
        }

        var md = new StringBuilder();
        md.AppendLine("# The producer's limit: FaasEvents vs raw Append Block calls");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Commit {BenchApp.Commit(root)}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, Azurite (npm, in memory) on loopback. Command: `dotnet run -c Release --project bench/FaasEvents.Bench -- limit [--megabytes {megabytes}] [--rounds {rounds}]`. Each configuration sends {megabytes} MiB of event data per round with `SendBatchAsync` calls of up to 4 MiB (each producer a separate `EventProducerClient`, calls spread over the partitions, all in flight); the raw side then replays exactly the Append Blocks the producers made, one writer per partition, partitions in parallel. Goal: producer >= 0.95x raw.");
        md.AppendLine();
        md.AppendLine("| event size | partitions | producers | events | producer MiB/s (median) | raw MiB/s (median) | ratio, median | ratio, range over rounds | Append Blocks | client CPU ms per MiB, producer / raw (median) | producer allocated MiB per MiB | appends refused (412) per round, MiB uploaded in vain (median) |");
        md.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
        foreach ((int size, int partitions, int producers, int events, List<Round> rs) in rows)
        {
            List<double> ratios = [.. rs.Select(r => r.Raw / r.Producer)];
            double p = Stats.Percentile(rs.Select(r => r.Producer).ToList(), 50), raw = Stats.Percentile(rs.Select(r => r.Raw).ToList(), 50);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {size / 1024} KiB | {partitions} | {producers} | {events:N0} | {megabytes / p:0.0} | {megabytes / raw:0.0} | {Stats.Percentile(ratios, 50):0.00}x | {ratios.Min():0.00}x - {ratios.Max():0.00}x | {rs[0].Blocks:N0} | {Stats.Percentile(rs.Select(r => r.ProducerCpu).ToList(), 50) * 1000 / megabytes:0.0} / {Stats.Percentile(rs.Select(r => r.RawCpu).ToList(), 50) * 1000 / megabytes:0.0} | {Stats.Percentile(rs.Select(r => (double)r.ProducerAlloc).ToList(), 50) / megabytes / 1024 / 1024:0.00} | {Stats.Percentile(rs.Select(r => (double)r.Conflicts).ToList(), 50):0}, {Stats.Percentile(rs.Select(r => (double)r.WastedBytes).ToList(), 50) / 1048576:0.0} |");
        }

        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "limit.md"), md.ToString());
        AnsiConsole.WriteLine(md.ToString());
    }

    private static async Task<Round> RoundAsync(EventLogClient log, ConflictCounter conflicts, string stream, int size, int partitions, int producers, int events)
    {
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = partitions });
        int perCall = Math.Max(1, 4 * 1024 * 1024 / (size + 200));
        var clients = Enumerable.Range(0, producers).Select(_ => log.CreateProducer(stream, new EventProducerOptions { MaxBatchBytes = 4 * 1024 * 1024 })).ToList();
        try
        {
            // Calls prepared before the clock: producer i sends calls i, i + producers, ..., call k to partition k % partitions.
            int calls = (events + perCall - 1) / perCall;
            List<(int Producer, int Partition, List<LogEvent> Events)> work = [.. Enumerable.Range(0, calls).Select(k => (k % producers, k % partitions, Enumerable.Range(0, Math.Min(perCall, events - (k * perCall))).Select(_ => Event(size)).ToList()))];

            // Warm: each producer opens the partitions it writes (its appender reads the tail), and nothing else. Opening
            // every partition from every producer left seven of eight producers with a tail another producer had moved
            // since, so each lost its first append of the round (one 4 MiB upload refused), which is a producer taking
            // over a partition from another writer, not writers racing.
            int[] warmBlocks = new int[partitions];
            foreach ((int producer, int partition) in work.Select(w => (w.Producer, w.Partition)).Distinct())
            {
                await clients[producer].SendAsync(Event(16), partition);
                warmBlocks[partition]++;
            }
            SettleHeap(); // the events above are the bench's, not the producer's: collect and promote them before the clock
            TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
            long alloc = GC.GetTotalAllocatedBytes(precise: true);
            conflicts.Reset();
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(work.Select(w => clients[w.Producer].SendBatchAsync(w.Events, w.Partition)));
            double producerSeconds = sw.Elapsed.TotalSeconds;
            double producerCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            alloc = GC.GetTotalAllocatedBytes(precise: true) - alloc;
            (long refused, long wasted) = (conflicts.Conflicts, conflicts.WastedBytes);

            // Raw: the same blocks, per partition, minus the warm-up ones.
            var blocks = new List<List<int>>();
            for (int p = 0; p < partitions; p++)
            {
                blocks.Add([.. (await SegmentBlocks.SizesAsync(log, stream, p)).Skip(warmBlocks[p])]);
            }

            var blobs = new List<AppendBlobClient>();
            for (int p = 0; p < partitions; p++)
            {
                AppendBlobClient blob = log.Container.GetAppendBlobClient($"raw/{stream}/{p}");
                await blob.CreateAsync();
                await blob.AppendBlockAsync(new MemoryStream(new byte[1024])); // warm, like the producers
                blobs.Add(blob);
            }

            byte[][][] payloads = [.. blocks.Select(list => list.Select(SegmentBlocks.RandomBytes).ToArray())];
            SettleHeap(); // likewise the raw side's prepared blocks
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            sw.Restart();
            await Task.WhenAll(blobs.Select(async (blob, p) =>
            {
                foreach (byte[] b in payloads[p])
                {
                    await blob.AppendBlockAsync(new MemoryStream(b));
                }
            }));
            double rawSeconds = sw.Elapsed.TotalSeconds;
            return new Round(producerSeconds, rawSeconds, blocks.Sum(b => b.Count), producerCpu, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, alloc, refused, wasted);
        }
        finally
        {
            foreach (EventProducerClient c in clients)
            {
                await c.DisposeAsync();
            }
        }
    }

    private static void SettleHeap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static LogEvent Event(int size) => new(Guid.NewGuid().ToString(), "/bench", "bench.event") { DataContentType = "application/octet-stream", Data = new BinaryData(SegmentBlocks.RandomBytes(size)) };
}
