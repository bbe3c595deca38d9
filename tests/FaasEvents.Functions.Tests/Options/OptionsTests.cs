using FaasEvents.Functions.Runtime;
using FaasEvents.Log.Consumers;

namespace FaasEvents.Functions.Tests.Options;

public class OptionsTests
{
    [Fact]
    public void Repository_host_json_is_valid()
    {
        string root = DevStorage.AzuriteProcess.FindRepositoryRoot()!;
        (EventLogHostOptions o, IReadOnlyDictionary<string, string> levels) = HostJson.Load(Path.Combine(root, "host.json"));
        Assert.Equal(100, o.MaxBatchSize);
        Assert.Equal("Information", levels["Default"]);
    }

    [Fact]
    public void Settings_are_read()
    {
        (EventLogHostOptions o, _) = HostJson.Parse("""
            { "version": "2.0", "extensions": { "eventLog": {
              "maxBatchSize": 50, "batchCheckpointFrequency": 3, "initialOffset": "latest", "maxConcurrentPartitions": 2,
              "leaseDuration": "00:00:30", "loadBalancingInterval": "00:00:02", "createStreamsIfMissing": true,
              "pollInterval": "00:00:00.050", "maxPollInterval": "00:00:02",
              "retry": { "strategy": "exponentialBackoff", "maxRetryCount": 5, "minimumInterval": "00:00:01", "maximumInterval": "00:00:30" },
              "deadLetter": { "mode": "stop" } } } }
            """);
        Assert.Equal((50, 3, InitialOffset.Latest, 2, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2), true, DeadLetterMode.Stop), (o.MaxBatchSize, o.BatchCheckpointFrequency, o.InitialOffset, o.MaxConcurrentPartitions, o.LeaseDuration, o.LoadBalancingInterval, o.CreateStreamsIfMissing, o.DeadLetterMode));
        Assert.Equal((TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2)), (o.PollInterval, o.MaxPollInterval));
        Assert.Equal(RetrySettings.Exponential(5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30)), o.Retry);
    }

    [Theory]
    [InlineData("""{ "version": "1.0" }""", "'version' must be \"2.0\"")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "maxBatchSize": 0 } } }""", "extensions.eventLog.maxBatchSize: must be an integer between 1 and 10000 (was 0)")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "maxBatchSzie": 10 } } }""", "extensions.eventLog.maxBatchSzie: unknown setting")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "leaseDuration": "00:02:00" } } }""", "extensions.eventLog.leaseDuration: '00:02:00' must be a time span between 00:00:15 and 00:01:00")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "initialOffset": "middle" } } }""", "extensions.eventLog.initialOffset: 'middle' must be 'earliest' or 'latest'")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "retry": { "strategy": "fixedDelay", "maxRetryCount": 2 } } } }""", "extensions.eventLog.retry.delayInterval is required")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "retry": { "strategy": "sometimes", "maxRetryCount": 2 } } } }""", "'sometimes' must be 'fixedDelay' or 'exponentialBackoff'")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "retry": { "strategy": "exponentialBackoff", "maxRetryCount": 2, "minimumInterval": "00:00:10", "maximumInterval": "00:00:01" } } } }""", "extensions.eventLog.retry: minimumInterval 00:00:10 is greater than maximumInterval 00:00:01")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:20" } } }""", "must be shorter than leaseDuration")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "pollInterval": "00:00:01", "maxPollInterval": "00:00:00.500" } } }""", "maxPollInterval (00:00:00.5000000) must be at least pollInterval (00:00:01)")]
    [InlineData("""{ "version": "2.0", "extensions": { "eventLog": { "deadLetter": { "mode": "drop" } } } }""", "extensions.eventLog.deadLetter.mode: 'drop'")]
    [InlineData("""{ "version": "2.0", "logging": { "logLevel": { "default": "Loud" } } }""", "logging.logLevel.default: 'Loud' is not a log level")]
    [InlineData("""{ "version": "2.0", """, "not valid JSON")]
    public void Bad_host_json_names_the_key_and_reason(string json, string expected)
    {
        HostJsonException ex = Assert.Throws<HostJsonException>(() => HostJson.Parse(json));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(FunctionsErrorReason.InvalidHostJson, ex.Reason);
    }

    [Fact]
    public void Options_set_in_code_are_checked_like_host_json_naming_every_problem()
    {
        var options = new EventLogHostOptions { MaxBatchSize = 0, LeaseDuration = TimeSpan.FromMinutes(2), PollInterval = TimeSpan.Zero };

        IReadOnlyList<string> problems = options.Validate();

        Assert.Equal(
            [
                "maxBatchSize: must be an integer between 1 and 10000 (was 0)",
                "leaseDuration: '00:02:00' must be a time span between 00:00:15 and 00:01:00 (write e.g. 00:00:20)",
                "pollInterval: '00:00:00' must be a time span between 00:00:00.0100000 and 00:01:00 (write e.g. 00:00:20)",
            ],
            problems);
        Assert.Empty(new EventLogHostOptions().Validate());
    }

    [Fact]
    public async Task An_app_configured_in_code_with_invalid_options_does_not_start_and_says_which_key()
    {
        string hostJson = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(hostJson, """{ "version": "2.0" }""");
        await using FunctionsApp app = FunctionsApplication.CreateBuilder(["--port", "0", "--host-json", hostJson])
            .AddFunctions(typeof(Runtime.PartitionProcessorTests.Ordered))
            .ConfigureEventLog(o => o.MaxConcurrentPartitions = 0)
            .Build();

        FunctionIndexingException ex = await Assert.ThrowsAsync<FunctionIndexingException>(() => app.StartAsync());

        Assert.Contains("extensions.eventLog.maxConcurrentPartitions: must be an integer between 1 and 1024 (was 0) (set in code by ConfigureEventLog)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retry_delays()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), RetrySettings.Fixed(3, TimeSpan.FromSeconds(5)).GetDelay(3));
        RetrySettings exp = RetrySettings.Exponential(10, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        Assert.Equal([1, 2, 4, 8, 10, 10], Enumerable.Range(1, 6).Select(i => exp.GetDelay(i).TotalSeconds));
    }

    [Fact]
    public void Dead_letter_stream_name_follows_the_template()
    {
        FunctionDefinition f = FunctionDiscovery.Discover(typeof(Samples.OrderFunctions).Assembly).Single(f => f.Name == "order-billing");
        Assert.Equal("orders.order-billing.deadletter", new EventLogHostOptions().DeadLetterStreamFor(f));
    }
}

public class BalancePlanTests
{
    private static PartitionOwnership Owned(int p, string owner) => new(p, owner, true, null);

    private static (int Claim, int Steal) Plan(int partitions, int mine, params (string Owner, int Count)[] others)
    {
        var ownership = new List<PartitionOwnership>();
        int next = mine;
        foreach ((string owner, int count) in others)
        {
            for (int i = 0; i < count; i++)
            {
                ownership.Add(Owned(next++, owner));
            }
        }

        (IReadOnlyList<int> claim, IReadOnlyList<int> steal) = BalancePlan.Decide(partitions, "me", Enumerable.Range(0, mine).ToHashSet(), ownership, new Random(1));
        Assert.Empty(claim.Intersect(steal));
        Assert.DoesNotContain(claim, p => p < mine);
        return (claim.Count, steal.Count);
    }

    [Theory]
    [InlineData(8, 0, 0, 8, 0)]       // alone: claim everything
    [InlineData(8, 0, 4, 4, 0)]       // one other owns 4: claim the 4 free
    [InlineData(8, 0, 8, 0, 4)]       // joining a full owner: steal down to fair share (4 each)
    [InlineData(8, 4, 4, 0, 0)]       // balanced: nothing to do
    [InlineData(8, 2, 6, 0, 2)]       // below ceil, other above ceil: steal 2
    public void Two_instances_converge_to_ceil_each(int partitions, int mine, int theirs, int claims, int steals) =>
        Assert.Equal((claims, steals), Plan(partitions, mine, ("other", theirs)));

    [Fact]
    public void Three_instances_on_eight_partitions_settle_at_3_3_2_without_thrash()
    {
        Assert.Equal((0, 0), Plan(8, 2, ("a", 3), ("b", 3)));   // 2 is fair (floor), nobody is above ceil
        Assert.Equal((0, 1), Plan(8, 2, ("a", 4), ("b", 2)));   // a is above ceil 3
        Assert.Equal((0, 2), Plan(8, 0, ("a", 4), ("b", 4)));   // newcomer takes one from each
    }

    [Fact]
    public void Below_floor_steals_from_owners_at_ceil() =>
        Assert.Equal((0, 1), Plan(10, 1, ("a", 3), ("b", 3), ("c", 3))); // floor 2: take one from a ceil owner
}
