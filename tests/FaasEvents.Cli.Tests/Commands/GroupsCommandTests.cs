using System.Text.Json.Nodes;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Cli.Tests.Commands;

/// <summary><c>faas groups</c> as a user runs it: list, describe, a dry run, a reset, a refusal and delete; bad input in one line.</summary>
public class GroupsCommandTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_group_is_listed_described_reset_after_a_dry_run_and_deleted()
    {
        EventLogClient log = azurite.CreateClient();
        Task<DotnetRun.Result> Faas(params string[] args) => FaasProcess.RunAsync(azurite.ConnectionString, [.. args, "--container", log.Container.Name]);
        await log.CreateStreamAsync(new StreamDefinition { Name = "payments", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("payments"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 8).Select(i => TestEvents.Json($"p{i}")), 0);
            await producer.SendBatchAsync(Enumerable.Range(0, 4).Select(i => TestEvents.Json($"q{i}")), 1);
        }

        await log.Checkpoints.UpdateAsync("ledger", "payments", 0, 8);
        PartitionLease held = (await log.CreateLeaseClient("ledger-7f9c").TryAcquireAsync("ledger", "payments", 1, TimeSpan.FromSeconds(15)))!;
        await log.Checkpoints.UpdateAsync("ledger", "payments", 1, 4, held);

        DotnetRun.Result list = await Faas("groups", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("ledger", list.Stdout, StringComparison.Ordinal);

        DotnetRun.Result describe = await Faas("groups", "describe", "payments", "ledger", "-o", "json");
        JsonArray partitions = JsonNode.Parse(describe.Stdout)!.AsArray();
        Assert.Equal("ledger-7f9c", (string)partitions[1]!["owner"]!);
        Assert.Equal("leased", (string)partitions[1]!["lease"]!);

        DotnetRun.Result refused = await Faas("groups", "reset", "payments", "ledger", "--to-earliest");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("instances hold partition(s) 1 (ledger-7f9c)", refused.Stderr, StringComparison.Ordinal);

        DotnetRun.Result dry = await Faas("groups", "reset", "payments", "ledger", "--shift-by", "-3", "--dry-run", "-o", "json");
        Assert.Equal(0, dry.ExitCode);
        Assert.Equal([5L, 1L], JsonNode.Parse(dry.Stdout)!["partitions"]!.AsArray().Select(p => (long)p!["to"]!));
        Assert.Equal(8L, (await log.Checkpoints.GetAsync("ledger", "payments", 0))!.NextOffset); // a dry run writes nothing

        DotnetRun.Result reset = await Faas("groups", "reset", "payments", "ledger", "--shift-by", "-3", "--force");
        Assert.Equal(0, reset.ExitCode);
        Assert.Contains("reset to shift by -3", reset.Stdout, StringComparison.Ordinal);
        Assert.Equal([5L, 1L], (await log.Groups.DescribeAsync("payments", "ledger")).Select(s => s.Checkpoint!.Value));

        DotnetRun.Result delete = await Faas("groups", "delete", "payments", "ledger", "--yes");
        Assert.Equal(0, delete.ExitCode);
        Assert.Empty(await log.Groups.ListAsync("payments"));
    }

    [Theory]
    [InlineData(new[] { "groups", "describe", "no-such-stream", "g" }, "Stream 'no-such-stream' does not exist")]
    [InlineData(new[] { "groups", "describe", "gc-orders", "nobody" }, "Consumer group 'nobody' has no checkpoints on stream 'gc-orders' (its groups: billing)")]
    [InlineData(new[] { "groups", "reset", "gc-orders", "billing" }, "Give exactly one of --to-earliest, --to-latest, --to-offset N, --to-time T, --shift-by N (none given)")]
    [InlineData(new[] { "groups", "reset", "gc-orders", "billing", "--to-earliest", "--to-latest" }, "(2 given)")]
    [InlineData(new[] { "groups", "reset", "gc-orders", "billing", "--to-time", "last tuesday" }, "--to-time 'last tuesday' is not a time")]
    [InlineData(new[] { "groups", "reset", "gc-orders", "billing", "--to-offset", "-1" }, "--to-offset -1: an offset is 0 or more")]
    [InlineData(new[] { "groups", "reset", "gc-orders", "billing", "--to-latest", "--partition", "9" }, "--partition 9: stream 'gc-orders' has partitions 0-1")]
    [InlineData(new[] { "groups", "delete", "gc-orders", "billing" }, "without confirmation; pass --yes")]
    public async Task Bad_input_is_one_clear_line_and_a_nonzero_exit(string[] args, string expected)
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "gc-orders", Partitions = 2 });
        await log.Checkpoints.UpdateAsync("billing", "gc-orders", 0, 0);
        DotnetRun.Result r = await FaasProcess.RunAsync(azurite.ConnectionString, [.. args, "--container", log.Container.Name]);
        Assert.NotEqual(0, r.ExitCode);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }
}
