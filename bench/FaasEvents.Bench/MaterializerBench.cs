using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FaasEvents.Functions;
using FaasEvents.Log;
using FaasEvents.Log.Compaction;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// Materializer benchmark: (1) fold rate of a materializer end to end (read, bind, fold, periodic delta/snapshot
/// commits) vs a plain dictionary fold over the same events read raw, in interleaved rounds; (2) full snapshot,
/// restore and a 1,000-key delta for a 1,000,000-key table, and memory per key; (3) compaction throughput vs a raw
/// read of the same partition.
/// </summary>
internal static class MaterializerBench
{
    private static long handled;

    public sealed record Move(string Kind, int Quantity);

    public sealed record Level(int OnHand, int Moves);

    public static class Fold
    {
        [Function("bench-mat")]
        public static Level? Apply([MaterializerTrigger("bench-moves")] Move? m, [CurrentState] Level? current)
        {
            Interlocked.Increment(ref handled);
            if (m is null)
            {
                return null;
            }

            Level now = current ?? new Level(0, 0);
            return new Level(now.OnHand + (m.Kind == "sale" ? -m.Quantity : m.Quantity), now.Moves + 1);
        }
    }

    public static class Big
    {
        [Function("bench-big")]
        public static Level? Apply([MaterializerTrigger("bench-big")] Move? m, [CurrentState] Level? current) =>
            m is null ? null : new Level((current?.OnHand ?? 0) + m.Quantity, (current?.Moves ?? 0) + 1);
    }

    public static async Task RunAsync(string storage, string outDir, int events, int keys, int rounds, int tableKeys, bool foldOnly = false)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Materializer benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, Azurite in memory. Reproduce: `dotnet run -c Release --project bench/FaasEvents.Bench -- materializers --events {events} --keys {keys} --rounds {rounds} --table-keys {tableKeys}`.");
        md.AppendLine();

        // 1. Fold rate.
        var runtimeRuns = new List<double>();
        var rawRuns = new List<double>();
        var gc = new List<(double FnAlloc, double RawAlloc, double FnPause, double RawPause)>();
        double commitTail = 0;
        for (int round = 0; round <= rounds; round++)
        {
            string container = $"mb{round}-{DateTime.UtcNow:HHmmss}";
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
            await log.CreateStreamAsync(new StreamDefinition { Name = "bench-moves", Kind = StreamKind.Entities });
            var random = new Random(round);
            await using (EventProducerClient p = log.CreateProducer("bench-moves"))
            {
                for (int i = 0; i < events; i += 5000)
                {
                    await p.SendBatchAsync(Enumerable.Range(i, Math.Min(5000, events - i)).Select(n => new LogEvent(n.ToString(CultureInfo.InvariantCulture), "/bench", "move")
                    {
                        PartitionKey = $"sku-{random.Next(keys):D6}",
                        DataContentType = "application/json",
                        Data = BinaryData.FromObjectAsJson(new Move(n % 3 == 0 ? "restock" : "sale", 1 + (n % 7)), JsonSerializerOptions.Web),
                    }));
                }
            }

            // Baseline: what a user would write without exactly-once: read, deserialize, fold into a dictionary.
            long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
            TimeSpan pause0 = GC.GetTotalPauseDuration();
            var sw = Stopwatch.StartNew();
            var table = new Dictionary<string, Level>(StringComparer.Ordinal);
            await foreach (StoredEvent e in log.ReadPartitionAsync("bench-moves", 0))
            {
                Move m = JsonSerializer.Deserialize<Move>(e.Event.Data!.ToMemory().Span, JsonSerializerOptions.Web)!;
                Level now = table.GetValueOrDefault(e.Event.PartitionKey!) ?? new Level(0, 0);
                table[e.Event.PartitionKey!] = new Level(now.OnHand + (m.Kind == "sale" ? -m.Quantity : m.Quantity), now.Moves + 1);
            }

            double raw = sw.Elapsed.TotalSeconds;
            double rawAlloc = (GC.GetTotalAllocatedBytes(precise: true) - alloc0) / (double)events;
            double rawPause = (GC.GetTotalPauseDuration() - pause0).TotalSeconds / raw;

            Interlocked.Exchange(ref handled, 0);
            await using FunctionsApp app = Build(storage, container);
            await app.StartAsync();
            while (Interlocked.Read(ref handled) == 0)
            {
                await Task.Delay(1);
            }

            sw.Restart(); // from the first fold: excludes start-up, lease claim and the (empty) restore
            long startCount = Interlocked.Read(ref handled);
            long alloc1 = GC.GetTotalAllocatedBytes(precise: true);
            TimeSpan pause1 = GC.GetTotalPauseDuration();
            while (Interlocked.Read(ref handled) < events)
            {
                await Task.Delay(2);
            }

            double fn = sw.Elapsed.TotalSeconds * events / (events - startCount);
            var tail = Stopwatch.StartNew();
            await app.StopAsync(); // the final commit of the remaining changes
            double stop = tail.Elapsed.TotalSeconds;
            double fnAlloc = (GC.GetTotalAllocatedBytes(precise: true) - alloc1) / (double)(events - startCount);
            double fnPause = (GC.GetTotalPauseDuration() - pause1).TotalSeconds / sw.Elapsed.TotalSeconds;
            StatePage check = await log.CreateStateReader("bench-mat", "bench-moves").ScanAsync(limit: 1);
            if (check.Items.Count == 0 || (await log.GetLagAsync("bench-moves", "bench-mat")).TotalLag != 0)
            {
                throw new InvalidOperationException("the materializer did not commit its table");
            }

            if (round > 0)
            {
                rawRuns.Add(raw);
                runtimeRuns.Add(fn + stop);
                gc.Add((fnAlloc, rawAlloc, fnPause, rawPause));
                commitTail = Math.Max(commitTail, stop);
            }

            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"round {round}{(round == 0 ? " (warm-up)" : "")}: materializer {events / (fn + stop):N0} events/s (final commit {stop * 1000:0} ms, {fnAlloc:N0} B allocated per event, GC pauses {fnPause:P0} of the time), dictionary fold {events / raw:N0} events/s ({rawAlloc:N0} B per event, GC pauses {rawPause:P0})");
        }

        double rt = Stats.Percentile(runtimeRuns, 50), rw = Stats.Percentile(rawRuns, 50);
        md.AppendLine(CultureInfo.InvariantCulture, $"### Fold rate: {events:N0} events over {keys:N0} keys, 1 partition, stateCommitInterval 5 s, median of {rounds} rounds");
        md.AppendLine();
        md.AppendLine("| path | events/s |");
        md.AppendLine("| --- | ---: |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| materializer (bind, fold, delta/snapshot commits, final commit at stop) | {events / rt:N0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| raw read + JSON + `Dictionary` fold, nothing persisted | {events / rw:N0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| **ratio** (goal >= 0.8x) | **{rw / rt:0.00}x** |");
        md.AppendLine();
        md.AppendLine("Per-round ratios: " + string.Join(", ", rawRuns.Zip(runtimeRuns, (r, f) => (r / f).ToString("0.00", CultureInfo.InvariantCulture) + "x")) + ".");
        md.AppendLine();
        md.AppendLine(Stats.GcLine(gc, "materializer", "dictionary fold"));
        md.AppendLine();
        if (foldOnly)
        {
            AnsiConsole.WriteLine(md.ToString()); // a profiling run: the fold alone, nothing written to the results
            return;
        }

        // 2. Snapshot / restore / delta for a big table, and memory per key.
        {
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = $"ms-{DateTime.UtcNow:HHmmss}" });
            await log.Container.CreateIfNotExistsAsync();
            PartitionLease lease = (await log.CreateLeaseClient("bench").TryAcquireAsync("big", "table", 0, TimeSpan.FromSeconds(60)))!;
            PartitionStateStore store = log.CreateStateStore("big", "table", 0);
            long before = GC.GetTotalMemory(forceFullCollection: true);
            var typed = new Dictionary<string, object>(StringComparer.Ordinal);
            for (int i = 0; i < tableKeys; i++)
            {
                typed[$"sku-{i:D7}"] = new Level(i % 1000, i % 17);
            }

            long perKey = (GC.GetTotalMemory(forceFullCollection: true) - before) / tableKeys;
            var sw = Stopwatch.StartNew();
            var serialized = typed.ToDictionary(kv => kv.Key, kv => new BinaryData(JsonSerializer.SerializeToUtf8Bytes(kv.Value, JsonSerializerOptions.Web)), StringComparer.Ordinal);
            await store.CommitSnapshotAsync(serialized, tableKeys, lease);
            double snapshot = sw.Elapsed.TotalSeconds;
            GC.KeepAlive(typed);
            sw.Restart();
            var changes = Enumerable.Range(0, 1000).ToDictionary(i => $"sku-{i * 997 % tableKeys:D7}", i => (BinaryData?)new BinaryData(JsonSerializer.SerializeToUtf8Bytes(new Level(i, 1), JsonSerializerOptions.Web)));
            await store.CommitAsync(changes, tableKeys + 1, lease);
            double delta = sw.Elapsed.TotalSeconds;
            sw.Restart();
            RestoredState restored = await log.CreateStateStore("big", "table", 0).RestoreAsync();
            double restore = sw.Elapsed.TotalSeconds;
            long blobBytes = 0;
            await foreach (Azure.Storage.Blobs.Models.BlobItem b in log.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "state/big/", default))
            {
                blobBytes = Math.Max(blobBytes, b.Properties.ContentLength ?? 0);
            }

            if (restored.Table.Count != tableKeys || restored.ChainLength != 2)
            {
                throw new InvalidOperationException($"restore returned {restored.Table.Count} keys from {restored.ChainLength} blobs");
            }

            md.AppendLine(CultureInfo.InvariantCulture, $"### State of {tableKeys:N0} keys (JSON values of ~25 B)");
            md.AppendLine();
            md.AppendLine("| operation | time | size |");
            md.AppendLine("| --- | ---: | ---: |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| full snapshot (serialize + upload + commit) | {snapshot:0.00} s | {blobBytes / 1048576.0:0.0} MiB |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| delta of 1,000 changed keys (+ commit) | {delta * 1000:0} ms | - |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| restore (snapshot + delta) | {restore:0.00} s | 2 blobs |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| memory per key in the live table (key string + entry + small record) | {perKey} B | {perKey * (long)tableKeys / 1048576.0:0} MiB total |");
            md.AppendLine();
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{tableKeys:N0} keys: snapshot {snapshot:0.00} s ({blobBytes / 1048576.0:0.0} MiB), delta(1,000) {delta * 1000:0} ms, restore {restore:0.00} s, {perKey} B/key in memory");
        }

        // 2b. The runtime with that many keys on one partition: restore on acquire, fold more, commit.
        {
            string container = $"mr-{DateTime.UtcNow:HHmmss}";
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
            await log.CreateStreamAsync(new StreamDefinition { Name = "bench-big", Kind = StreamKind.Entities });
            await using (EventProducerClient p = log.CreateProducer("bench-big"))
            {
                await p.SendAsync(new LogEvent("seed", "/bench", "move") { PartitionKey = "sku-0000000", Data = BinaryData.FromObjectAsJson(new Move("restock", 1), JsonSerializerOptions.Web) });
            }

            PartitionLease lease = (await log.CreateLeaseClient("seed").TryAcquireAsync("bench-big", "bench-big", 0, TimeSpan.FromSeconds(15)))!;
            var table = new Dictionary<string, BinaryData>(tableKeys, StringComparer.Ordinal);
            for (int i = 0; i < tableKeys; i++)
            {
                table[$"sku-{i:D7}"] = new BinaryData(JsonSerializer.SerializeToUtf8Bytes(new Level(i % 1000, 1), JsonSerializerOptions.Web));
            }

            await log.CreateStateStore("bench-big", "bench-big", 0).CommitSnapshotAsync(table, 1, lease);
            await log.CreateLeaseClient("seed").ReleaseAsync(lease);
            table = null;
            GC.Collect();
            long managedBefore = GC.GetTotalMemory(forceFullCollection: true);

            var sw = Stopwatch.StartNew();
            await using FunctionsApp app = Build(storage, container, typeof(Big), "00:00:01");
            await app.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };
            while (JsonDocument.Parse(await http.GetStringAsync("/materializers")).RootElement[0].GetProperty("keysInMemory").GetInt32() < tableKeys)
            {
                await Task.Delay(20);
            }

            double restored = sw.Elapsed.TotalSeconds;
            long managedAfter = GC.GetTotalMemory(forceFullCollection: true);
            await using (EventProducerClient p = log.CreateProducer("bench-big"))
            {
                await p.SendBatchAsync(Enumerable.Range(0, 10_000).Select(i => new LogEvent($"more-{i}", "/bench", "move") { PartitionKey = $"sku-{i * 97 % tableKeys:D7}", Data = BinaryData.FromObjectAsJson(new Move("restock", 1), JsonSerializerOptions.Web) }));
            }

            sw.Restart();
            while ((await log.GetLagAsync("bench-big", "bench-big")).TotalLag > 0)
            {
                await Task.Delay(50);
            }

            double folded = sw.Elapsed.TotalSeconds;
            sw.Restart();
            await app.StopAsync();
            double stopped = sw.Elapsed.TotalSeconds;
            md.AppendLine(CultureInfo.InvariantCulture, $"Through the runtime: an instance acquiring a partition whose committed table has {tableKeys:N0} keys restored it in **{restored:0.0} s** (from app start; JSON into typed records), holding ~{(managedAfter - managedBefore) / 1048576.0:0} MiB of managed memory for it; 10,000 more events were folded and committed (a delta, stateCommitInterval 1 s) {folded:0.0} s after they were appended; the final commit at stop took {stopped * 1000:0} ms.");
            md.AppendLine();
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"runtime: restore of {tableKeys:N0} keys {restored:0.0} s, +{(managedAfter - managedBefore) / 1048576.0:0} MiB; 10,000 folds committed in {folded:0.0} s; stop {stopped * 1000:0} ms");
        }

        // 3. Compaction throughput vs a raw read of the same partition.
        {
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = $"mc-{DateTime.UtcNow:HHmmss}" });
            await log.CreateStreamAsync(new StreamDefinition { Name = "catalog", Kind = StreamKind.Entities, SegmentMaxBytes = 4 * 1024 * 1024 });
            var random = new Random(1);
            await using (EventProducerClient p = log.CreateProducer("catalog"))
            {
                for (int i = 0; i < events; i += 5000)
                {
                    await p.SendBatchAsync(Enumerable.Range(i, Math.Min(5000, events - i)).Select(n => new LogEvent(n.ToString(CultureInfo.InvariantCulture), "/bench", "book")
                    {
                        PartitionKey = $"isbn-{random.Next(keys):D6}",
                        Data = new BinaryData(new byte[100]),
                    }));
                }
            }

            var sw = Stopwatch.StartNew();
            long count = 0;
            await foreach (StoredEvent _ in log.ReadPartitionAsync("catalog", 0))
            {
                count++;
            }

            double read = sw.Elapsed.TotalSeconds;
            sw.Restart();
            IReadOnlyList<PartitionCompaction> result = await log.CompactAsync("catalog", new CompactionOptions { DeleteRetention = TimeSpan.Zero });
            double compact = sw.Elapsed.TotalSeconds;
            PartitionCompaction r = result[0];
            md.AppendLine(CultureInfo.InvariantCulture, $"### Compaction: {events:N0} events of 100 B over {keys:N0} keys, 4 MiB segments, 1 partition");
            md.AppendLine();
            md.AppendLine("| | value |");
            md.AppendLine("| --- | ---: |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| closed segments | {r.SegmentsIn} -> {r.SegmentsOut} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| events in closed segments | {r.EventsRead:N0} -> {r.EventsKept:N0} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| bytes | {r.BytesBefore / 1048576.0:0.0} MiB -> {r.BytesAfter / 1048576.0:0.0} MiB |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| compaction time | {compact:0.00} s ({r.EventsRead / compact:N0} events/s, {r.BytesBefore / 1048576.0 / compact:0.0} MiB/s) |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| raw read of the partition | {read:0.00} s ({count / read:N0} events/s) |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| **compaction / raw read time** (three reads + one write: ~3x expected) | **{compact / read:0.00}x** |");
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"compaction: {r.EventsRead:N0} -> {r.EventsKept:N0} events in {compact:0.00} s; raw read {read:0.00} s");
        }

        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "materializers.md"), md.ToString());
        AnsiConsole.Write(new Panel(Markup.Escape(md.ToString())).Header("bench/results/materializers.md"));
    }

    private static FunctionsApp Build(string storage, string container, Type? functions = null, string commitInterval = "00:00:05")
    {
        string hostJson = Path.Combine(Path.GetTempPath(), $"bench-host-{Guid.NewGuid():N}.json");
        File.WriteAllText(hostJson, $$"""
            { "version": "2.0", "logging": { "logLevel": { "default": "Warning" } },
              "extensions": { "eventLog": { "maxBatchSize": 100, "pollInterval": "00:00:00.100", "stateCommitInterval": "{{commitInterval}}" } } }
            """);
        FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(["--port", "0", "--host-json", hostJson]);
        builder.Configuration["FAAS_STORAGE"] = storage;
        builder.Configuration["FAAS_CONTAINER"] = container;
        builder.AddFunctions(functions ?? typeof(Fold));
        return builder.Build();
    }
}
