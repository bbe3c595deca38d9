using FaasEvents.Functions.Runtime;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// Issue 13, "zombie changelog": a materializer paused inside its commit appends its changelog records after its successor
/// committed newer values. Those late records land, but readers skip them, so folding the changelog rebuilds the table.
/// </summary>
public sealed class ZombieChangelogTests : IAsyncLifetime
{
    private const string Input = "zc-in";
    private const string Changelog = "zc-count.changelog";
    private readonly InMemoryRuntime runtime = new();

    public static class Counter
    {
        [Function("zc-count")]
        public static int? Count([MaterializerTrigger(Input, Changelog = true)] LogEvent e, [CurrentState] int? current) => (current ?? 0) + 1;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await runtime.DisposeAsync();

    [Fact]
    public async Task A_paused_owner_s_late_changelog_append_is_skipped_and_the_changelog_folds_to_the_successor_s_table()
    {
        runtime.Log.CreateStream(Input, 1);
        runtime.Log.CreateStream(Changelog, 1);
        EventLogHostOptions options = InMemoryRuntime.FastOptions();
        options.StateCommitInterval = TimeSpan.FromMilliseconds(200);
        runtime.Produce(Input, ["e1", "e2", "e3"], key: "k");
        FunctionHost zombieHost = runtime.Host(typeof(Counter), "zc-count", options, instance: "zombie");
        PartitionLease zombieLease = await AcquireAsync(zombieHost);
        PartitionProcessor first = PartitionProcessor.Start(zombieHost, zombieLease);
        await InMemoryRuntime.WaitUntilAsync(() => runtime.Checkpoint("zc-count", Input, 0) == 3, "the first owner committed k = 3");
        first.Stop();
        await first.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        // The first owner folded e4 (k = 4) and was paused inside its commit; its lease expired, a successor took over.
        runtime.LeaseClock.Advance(TimeSpan.FromSeconds(16));
        PartitionProcessor successor = PartitionProcessor.Start(runtime.Host(typeof(Counter), "zc-count", options, instance: "successor"), await AcquireAsync(runtime.Host(typeof(Counter), "zc-count", options, instance: "successor")));
        runtime.Produce(Input, ["e4", "e5"], key: "k");
        await InMemoryRuntime.WaitUntilAsync(() => runtime.Checkpoint("zc-count", Input, 0) == 5, "the successor committed k = 5");
        successor.Stop();
        await successor.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        // It resumes: its changelog append of k = 4 lands after the successor's k = 5, and its state commit is fenced.
        var paused = new MaterializerPartition(zombieHost, 0, new MaterializedTable(zombieHost.Function.StateType!, zombieHost.Serializer));
        paused.Table.Set("k", 4, offset: 3);
        EventLogException fenced = await Assert.ThrowsAsync<EventLogException>(() => paused.CommitAsync(4, null, null, null, PartitionWriters.For(zombieHost.Function, 0, 0).Changelog, zombieLease, CancellationToken.None));
        Assert.Equal(EventLogErrorReason.LeaseLost, fenced.Reason);

        Assert.Equal("4", LastValue(Read(Changelog, deduplicate: false))); // the stale record did land last
        Assert.Equal("5", LastValue(Read(Changelog, deduplicate: true))); // readers skip it: folding the changelog gives the table
    }

    private static string? LastValue(IEnumerable<StoredEvent> changelog) => changelog.Last(e => e.Event.PartitionKey == "k").Event.Data?.ToString();

    private List<StoredEvent> Read(string stream, bool deduplicate) =>
        runtime.Log.ReadAsync(stream, 0, new ReadOptions { Deduplicate = deduplicate }, CancellationToken.None).ToBlockingEnumerable().SelectMany(b => b.Events).ToList();

    private static async Task<PartitionLease> AcquireAsync(FunctionHost host) =>
        await host.Checkpoints.TryAcquireAsync(host.Function.ConsumerGroup, Input, 0, host.Options.LeaseDuration, CancellationToken.None)
            ?? throw new InvalidOperationException("The partition is leased already.");
}
