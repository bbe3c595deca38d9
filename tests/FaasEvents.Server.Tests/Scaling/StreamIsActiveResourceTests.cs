using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Scaling;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace FaasEvents.Server.Tests.Scaling;

/// <summary>Runs alone: it measures the process's managed heap, which tests running beside it would disturb.</summary>
[CollectionDefinition(nameof(MeasuresMemory), DisableParallelization = true)]
public sealed class MeasuresMemory;

/// <summary>What an open StreamIsActive call costs over time: memory, and storage requests per lag check.</summary>
[Collection(nameof(MeasuresMemory))]
public class StreamIsActiveResourceTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    /// <summary>
    /// KEDA holds one StreamIsActive call per ScaledObject open for as long as it runs. For a stream not fed through
    /// this server's ingress the call re-checks every 400 ms; each check must leave nothing behind.
    /// </summary>
    [Fact]
    public async Task An_open_StreamIsActive_call_keeps_memory_flat_over_a_simulated_day()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "quiet", Partitions = 2 });
        StreamIsActiveMemory m = await StreamIsActiveMemoryProbe.MeasureAsync(log, "quiet", TimeSpan.FromHours(1), TimeSpan.FromHours(24), TestEvents.Timeout(300));

        output.WriteLine($"heap {m.HeapBefore / 1048576.0:0.0} -> {m.HeapAfter / 1048576.0:0.0} MiB over 24 simulated hours ({m.Checks:N0} checks)");
        Assert.False(Assert.Single(m.Answers)); // idle all day: one answer, at the start
        Assert.True(m.GrownMiB < 2, $"the managed heap grew {m.GrownMiB:0.0} MiB over a simulated day ({m.Checks:N0} checks) of one open StreamIsActive call");
    }

    /// <summary>
    /// Under steady ingress every append signals the stream's waiters. The lag they read must come from the cache
    /// plus the positions the ingress just wrote, not from re-listing the stream and re-reading footers per append.
    /// </summary>
    [Fact]
    public async Task Appends_signalled_by_the_ingress_show_as_lag_without_re_reading_storage_within_the_cache_period()
    {
        var counter = new StorageRequestCounter();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = counter.CreateOptions() });
        await log.CreateStreamAsync(new StreamDefinition { Name = "busy", Partitions = 2 });
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow); // frozen: everything below falls in one cache period
        var lag = new LagService(log, time, new ServerOptions());
        Assert.Equal(0, (await lag.GetLagAsync("busy", "g", InitialOffset.Earliest, CancellationToken.None)).TotalLag);
        int afterFirst = counter.Total;

        await using EventProducerClient producer = azurite.CreateClientFor(log).CreateProducer("busy"); // not counted: the ingress's own writes
        for (int i = 1; i <= 30; i++)
        {
            EventPosition written = await producer.SendAsync(TestEvents.Json($"e{i}", key: $"k{i}"));
            lag.NotifyAppended("busy", [written]); // what the ingress calls after each append
            Assert.Equal(i, (await lag.GetLagAsync("busy", "g", InitialOffset.Earliest, CancellationToken.None)).TotalLag);
        }

        int duringAppends = counter.Total - afterFirst;
        time.Advance(TimeSpan.FromSeconds(1)); // the cache period ends: storage is read again and agrees
        Assert.Equal(30, (await lag.GetLagAsync("busy", "g", InitialOffset.Earliest, CancellationToken.None)).TotalLag);
        Assert.True(duringAppends == 0, $"30 signalled appends within one cache period cost {duringAppends} storage requests ({counter})");
    }
}
