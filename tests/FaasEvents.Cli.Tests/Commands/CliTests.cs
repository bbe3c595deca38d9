using System.Text.Json.Nodes;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Cli.Tests.Commands;

public class CliTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private Task<DotnetRun.Result> Faas(params string[] args) => FaasProcess.RunAsync(azurite.ConnectionString, args);

    [Fact]
    public async Task Create_produce_tail_and_lag_round_trip_through_the_cli()
    {
        DotnetRun.Result created = await Faas("streams", "create", "cli-orders", "--partitions", "3", "--retention", "7d");
        Assert.Equal(0, created.ExitCode);
        Assert.Contains("3 partition(s)", created.Stdout, StringComparison.Ordinal);

        DotnetRun.Result one = await Faas("produce", "cli-orders", "--key", "order-1", "--type", "com.example.created", "--data", "{\"total\":42}");
        Assert.Equal(0, one.ExitCode);
        Assert.Contains($"partition {KeyPartitioner.GetPartition("order-1", 3)} at offset 0", one.Stdout, StringComparison.Ordinal);

        string file = Path.GetTempFileName();
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 300).Select(i =>
            $"{{\"specversion\":\"1.0\",\"id\":\"bulk-{i}\",\"source\":\"/test\",\"type\":\"t\",\"partitionkey\":\"k{i % 7}\",\"datacontenttype\":\"application/json\",\"data\":{{\"n\":{i}}}}}"));
        DotnetRun.Result bulk = await Faas("produce", "cli-orders", "--file", file);
        Assert.Equal(0, bulk.ExitCode);
        Assert.Contains("Produced 300 events", bulk.Stdout, StringComparison.Ordinal);
        Assert.Contains("events/s", bulk.Stdout, StringComparison.Ordinal);

        DotnetRun.Result tail = await Faas("tail", "cli-orders", "--output", "json");
        Assert.Equal(0, tail.ExitCode);
        List<JsonObject> lines = tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(301, lines.Count); // lost: none
        Assert.Equal(301, lines.Select(l => (string)l["id"]!).Distinct().Count());
        JsonObject b5 = lines.Single(l => (string)l["id"]! == "bulk-5");
        Assert.Equal("k5", (string)b5["partitionkey"]!);
        Assert.Equal(KeyPartitioner.GetPartition("k5", 3), (int)b5["partition"]!);
        Assert.Equal(5, (int)b5["data"]!["n"]!);
        Assert.Equal("1.0", (string)b5["specversion"]!);
        foreach (IGrouping<int, JsonObject> part in lines.GroupBy(l => (int)l["partition"]!))
        {
            Assert.Equal(Enumerable.Range(0, part.Count()).Select(i => (long)i), part.Select(l => (long)l["offset"]!));
        }

        DotnetRun.Result text = await Faas("tail", "cli-orders", "--partition", KeyPartitioner.GetPartition("order-1", 3).ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", "1");
        Assert.Contains("type: com.example.created", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("partitionkey: order-1", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"total\": 42", text.Stdout, StringComparison.Ordinal);

        DotnetRun.Result lag = await Faas("lag", "cli-orders", "--group", "billing", "--output", "json");
        Assert.Equal(0, lag.ExitCode);
        Assert.Equal(301, JsonNode.Parse(lag.Stdout)!["totalLag"]!.GetValue<long>());

        DotnetRun.Result describe = await Faas("streams", "describe", "cli-orders");
        Assert.Contains("Retention:   7d", describe.Stdout, StringComparison.Ordinal);
        Assert.Contains("no retention pass recorded yet", describe.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Faas("streams", "retention", "cli-orders")).ExitCode);
        Assert.Contains("last retention pass", (await Faas("streams", "describe", "cli-orders")).Stdout, StringComparison.Ordinal); // a pass that removed nothing is recorded too
        DotnetRun.Result list = await Faas("streams", "list");
        Assert.Contains("cli-orders", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Produce_from_a_file_keeps_file_order_within_each_partition()
    {
        Assert.Equal(0, (await Faas("streams", "create", "cli-order", "--partitions", "4")).ExitCode);
        string file = Path.GetTempFileName();
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 2500).Select(i =>
            $"{{\"specversion\":\"1.0\",\"id\":\"e-{i}\",\"source\":\"/test\",\"type\":\"t\",\"partitionkey\":\"k{i % 16}\",\"data\":{{\"n\":{i}}}}}"));

        DotnetRun.Result produced = await Faas("produce", "cli-order", "--file", file);

        Assert.Equal(0, produced.ExitCode);
        var log = new EventLogClient(azurite.ConnectionString);
        for (int p = 0; p < 4; p++)
        {
            List<int> ids = [];
            await foreach (StoredEvent e in log.ReadPartitionAsync("cli-order", p))
            {
                ids.Add(int.Parse(e.Event.Id[2..], System.Globalization.CultureInfo.InvariantCulture));
            }

            Assert.Equal(ids.Order(), ids); // out of order: 0
            Assert.Equal(Enumerable.Range(0, 2500).Count(i => KeyPartitioner.GetPartition($"k{i % 16}", 4) == p), ids.Count);
        }
    }

    [Fact]
    public async Task Creating_a_stream_that_exists_says_so_and_keeps_its_events()
    {
        Assert.Equal(0, (await Faas("streams", "create", "cli-keep")).ExitCode);
        Assert.Equal(0, (await Faas("produce", "cli-keep", "--data", "{\"n\":1}")).ExitCode);

        DotnetRun.Result again = await Faas("streams", "create", "cli-keep");

        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("already exists", again.Stderr + again.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, (await new EventLogClient(azurite.ConnectionString).GetPartitionAsync("cli-keep", 0)).EndOffset);
    }

    [Theory]
    [InlineData(new[] { "produce", "no-such-stream", "--data", "{}" }, "Stream 'no-such-stream' does not exist")]
    [InlineData(new[] { "streams", "create", "bad name" }, "Invalid stream name 'bad name'")]
    [InlineData(new[] { "streams", "create", "toomany", "--partitions", "5000" }, "partitions must be between 1 and 1024")]
    [InlineData(new[] { "streams", "create", "ret", "--retention", "forever" }, "Invalid retention 'forever'")]
    [InlineData(new[] { "lag", "no-such-stream", "--group", "g" }, "Stream 'no-such-stream' does not exist")]
    [InlineData(new[] { "tail", "no-such-stream" }, "Stream 'no-such-stream' does not exist")]
    public async Task Errors_are_one_clear_line_and_a_nonzero_exit(string[] args, string expected)
    {
        DotnetRun.Result r = await Faas(args);
        Assert.NotEqual(0, r.ExitCode);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_line_in_a_bulk_file_produces_nothing()
    {
        await Faas("streams", "create", "cli-bad");
        string file = Path.GetTempFileName();
        await File.WriteAllLinesAsync(file, ["{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}", "{\"specversion\":\"1.0\",\"id\":\"2\"}"]);
        DotnetRun.Result r = await Faas("produce", "cli-bad", "--file", file);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("line 2", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("source", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, JsonNode.Parse((await Faas("lag", "cli-bad", "-g", "g", "-o", "json")).Stdout)!["totalLag"]!.GetValue<long>()); // nothing half-written
    }

    [Fact]
    public async Task Connection_string_option_wins_and_unreachable_storage_never_prints_the_key()
    {
        string unreachable = AzuriteProcess.GetConnectionString(AzuriteProcess.GetFreePort());
        DotnetRun.Result r = await Faas("--connection-string", unreachable, "streams", "list");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("cannot reach storage", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteProcess.AccountKey, r.Stderr + r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey", r.Stderr + r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Follow_prints_events_appended_after_it_started()
    {
        await Faas("streams", "create", "cli-follow", "--partitions", "2");
        Task<DotnetRun.Result> follow = Faas("tail", "cli-follow", "--follow", "--from", "latest", "-n", "2", "-o", "json");
        await Task.Delay(3000);
        EventLogClient log = new(azurite.ConnectionString);
        await using (EventProducerClient p = log.CreateProducer("cli-follow"))
        {
            await p.SendAsync(TestEvents.Json("late-0"), 0);
            await p.SendAsync(TestEvents.Json("late-1"), 1);
        }

        DotnetRun.Result r = await follow.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["late-0", "late-1"], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (string)JsonNode.Parse(l)!["id"]!).Order());
    }
}

public class StateCliTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task State_get_and_scan_read_a_materializers_committed_table_while_nothing_runs()
    {
        EventLogClient log = azurite.CreateClient();
        string container = log.Container.Name;
        Task<DotnetRun.Result> Faas(params string[] args) => FaasProcess.RunAsync(azurite.ConnectionString, [.. args, "--container", container]);

        DotnetRun.Result none = await Faas("state", "get", "catalog", "978-0");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("Materializer 'catalog' has no committed state", none.Stderr, StringComparison.Ordinal);

        // Commit a table as a materializer would: per partition, under the partition's lease, with its offset.
        await log.CreateStreamAsync(new StreamDefinition { Name = "books", Partitions = 3, Kind = StreamKind.Entities });
        var model = Enumerable.Range(0, 30).ToDictionary(i => $"978-{i:D2}", i => $$"""{"title":"Book {{i}}","year":{{1990 + i}}}""");
        PartitionLeaseClient leases = log.CreateLeaseClient("test");
        foreach (IGrouping<int, KeyValuePair<string, string>> part in model.GroupBy(kv => KeyPartitioner.GetPartition(kv.Key, 3)))
        {
            PartitionLease lease = (await leases.TryAcquireAsync("catalog", "books", part.Key, TimeSpan.FromSeconds(15)))!;
            PartitionStateStore store = log.CreateStateStore("catalog", "books", part.Key);
            await store.CommitAsync(part.ToDictionary(kv => kv.Key, kv => (BinaryData?)BinaryData.FromString(kv.Value)), 100, lease);
            await store.CommitAsync(new Dictionary<string, BinaryData?> { [part.First().Key] = null }, 101, lease); // a tombstone
            model.Remove(part.First().Key);
            await leases.ReleaseAsync(lease);
        }

        string present = model.Keys.Order(StringComparer.Ordinal).First();
        DotnetRun.Result get = await Faas("state", "get", "catalog", present);
        Assert.Equal(0, get.ExitCode);
        Assert.Equal(JsonNode.Parse(model[present])!.ToJsonString(), JsonNode.Parse(get.Stdout)!.ToJsonString());

        string deleted = Enumerable.Range(0, 30).Select(i => $"978-{i:D2}").First(k => !model.ContainsKey(k));
        DotnetRun.Result gone = await Faas("state", "get", "catalog", deleted);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains($"key '{deleted}' is not in materializer 'catalog' (absent or deleted; partition {KeyPartitioner.GetPartition(deleted, 3)}, committed state as of offset 101)", gone.Stderr, StringComparison.Ordinal);

        DotnetRun.Result scan = await Faas("state", "scan", "catalog", "--prefix", "978-1", "-o", "json");
        Assert.Equal(0, scan.ExitCode);
        JsonNode page = JsonNode.Parse(scan.Stdout)!;
        Assert.Equal(model.Keys.Where(k => k.StartsWith("978-1", StringComparison.Ordinal)).Order(StringComparer.Ordinal), page["items"]!.AsArray().Select(i => (string)i!["key"]!));
        Assert.Null(page["next"]);

        DotnetRun.Result paged = await Faas("state", "scan", "catalog", "--limit", "5");
        Assert.Equal(0, paged.ExitCode);
        string fifth = model.Keys.Order(StringComparer.Ordinal).ElementAt(4);
        Assert.Contains($"5 key(s) shown; next page: --after {fifth}", paged.Stdout, StringComparison.Ordinal);
        DotnetRun.Result next = await Faas("state", "scan", "catalog", "--after", fifth, "--limit", "1000", "-o", "json");
        Assert.Equal(model.Count - 5, JsonNode.Parse(next.Stdout)!["items"]!.AsArray().Count);
    }
}

public class CompactCliTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Streams_compact_rewrites_an_entity_stream_with_progress_and_refuses_an_event_stream()
    {
        EventLogClient log = azurite.CreateClient();
        Task<DotnetRun.Result> Faas(params string[] args) => FaasProcess.RunAsync(azurite.ConnectionString, [.. args, "--container", log.Container.Name]);
        await log.CreateStreamAsync(new StreamDefinition { Name = "prices", Partitions = 2, Kind = StreamKind.Entities, SegmentMaxBlocks = 2, DeleteRetention = TimeSpan.Zero });
        await using (EventProducerClient producer = log.CreateProducer("prices"))
        {
            await producer.SendAsync(new LogEvent("gone-1", "/t", "price") { PartitionKey = "gone", Data = BinaryData.FromString("1") });
            await producer.SendAsync(new LogEvent("gone-2", "/t", "price.deleted") { PartitionKey = "gone" });
            for (int i = 0; i < 20; i++)
            {
                await producer.SendBatchAsync(Enumerable.Range(0, 4).Select(j => new LogEvent($"p{i}-{j}", "/t", "price") { PartitionKey = $"sku-{j}", Data = BinaryData.FromString($"{i}") }));
            }
        }

        DotnetRun.Result compact = await Faas("streams", "compact", "prices"); // the stream's deleteRetention (0) applies
        Assert.Equal(0, compact.ExitCode);
        Assert.Contains("Compacted 'prices' in", compact.Stdout, StringComparison.Ordinal);
        Assert.Contains("events in closed segments", compact.Stdout, StringComparison.Ordinal);
        var left = new List<StoredEvent>();
        for (int p = 0; p < 2; p++)
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync("prices", p))
            {
                left.Add(e);
            }
        }

        Assert.InRange(left.Count, 4, 82 - 1); // fewer events, every key still there
        Assert.DoesNotContain(left, e => e.Event.PartitionKey == "gone"); // the tombstone and what it deleted are gone
        Assert.Equal(82, (await log.GetPartitionsAsync("prices")).Sum(p => p.EndOffset));
        string described = (await Faas("streams", "describe", "prices")).Stdout;
        Assert.Contains($"last compaction pass", described, StringComparison.Ordinal);
        Assert.Contains($"segment(s), {82 - left.Count} events,", described, StringComparison.Ordinal); // what the pass removed

        DotnetRun.Result created = await Faas("streams", "create", "catalog", "--kind", "entities", "--delete-retention", "2h", "--min-compaction-lag", "5m");
        Assert.Equal(0, created.ExitCode);
        Assert.Equal((TimeSpan.FromHours(2), TimeSpan.FromMinutes(5)), ((await log.GetStreamAsync("catalog")).DeleteRetention, (await log.GetStreamAsync("catalog")).MinCompactionLag));
        Assert.Contains("tombstones kept 2h, events younger than 5m kept", (await Faas("streams", "describe", "catalog")).Stdout, StringComparison.Ordinal);
        DotnetRun.Result wrongKind = await Faas("streams", "create", "views", "--delete-retention", "2h");
        Assert.Equal(1, wrongKind.ExitCode);
        Assert.Contains("apply to entity streams (--kind entities) only", wrongKind.Stderr, StringComparison.Ordinal);

        await log.CreateStreamAsync(new StreamDefinition { Name = "clicks", Partitions = 1 });
        DotnetRun.Result refused = await Faas("streams", "compact", "clicks");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("holds events, not entities", refused.Stderr, StringComparison.Ordinal);
        DotnetRun.Result bad = await Faas("streams", "compact", "prices", "--delete-retention", "10GiB");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--delete-retention takes a duration", bad.Stderr, StringComparison.Ordinal);
    }
}
