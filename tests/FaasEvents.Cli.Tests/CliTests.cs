using System.Text.Json.Nodes;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Testing;

namespace FaasEvents.Cli.Tests;

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
        DotnetRun.Result list = await Faas("streams", "list");
        Assert.Contains("cli-orders", list.Stdout, StringComparison.Ordinal);
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
