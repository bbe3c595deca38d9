using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace FaasEvents.Server.Tests.Scaling;

/// <summary>
/// What the scaler costs while nothing happens (issue 19): KEDA keeps StreamIsActive open per ScaledObject, which asks
/// for lag every 400 ms. A stream at zero instances must not pay listings at that rate all day, yet an event from a
/// direct producer must still wake it within the idle bound, and a group's progress must show at the normal pace.
/// </summary>
public class ScalerIdleCostTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Check = new ServerOptions().ActivePollInterval;

    [Fact]
    public async Task A_stream_nobody_writes_to_costs_a_few_listings_per_idle_interval_not_two_a_second()
    {
        (EventLogClient log, StorageRequestCounter counter) = await CreateAsync("idle");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lag = new LagService(log, time, new ServerOptions());

        int before = counter.ByOperation.GetValueOrDefault(StorageOperation.List);
        await AskForAsync(lag, time, "idle", TimeSpan.FromMinutes(10));
        int listings = counter.ByOperation.GetValueOrDefault(StorageOperation.List) - before;

        output.WriteLine($"10 idle minutes, a lag check every {Check.TotalMilliseconds} ms: {listings} listings ({counter})");
        // Before: 1,500 listings (ends and checkpoints every 800 ms), ~$0.59 per stream-day at list prices.
        Assert.True(listings <= 30, $"10 idle minutes cost {listings} listings");
    }

    [Fact]
    public async Task An_event_from_a_direct_producer_after_a_long_idle_shows_within_the_idle_bound_and_the_next_at_once()
    {
        (EventLogClient log, _) = await CreateAsync("wake");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new ServerOptions();
        var lag = new LagService(log, time, options);
        await AskForAsync(lag, time, "wake", TimeSpan.FromMinutes(30));
        await using EventProducerClient producer = log.CreateProducer("wake");

        await producer.SendAsync(TestEvents.Json("first"));
        TimeSpan first = await TimeUntilLagAsync(lag, time, "wake", 1);
        await producer.SendAsync(TestEvents.Json("second"));
        TimeSpan second = await TimeUntilLagAsync(lag, time, "wake", 2);

        output.WriteLine($"first event after 30 idle minutes seen after {first.TotalSeconds:0.0} s, the next after {second.TotalSeconds:0.0} s");
        Assert.True(first <= options.LagIdleCacheMax + Check, $"the first event after idling showed after {first}");
        Assert.True(second <= TimeSpan.FromSeconds(1), $"once the stream moved again, the next event showed after {second}");
    }

    [Fact]
    public async Task A_group_with_lag_has_its_progress_read_at_the_normal_pace_however_long_the_stream_was_quiet()
    {
        (EventLogClient log, _) = await CreateAsync("behind", partitions: 1);
        await using (EventProducerClient producer = log.CreateProducer("behind"))
        {
            await producer.SendBatchAsync([TestEvents.Json("a"), TestEvents.Json("b"), TestEvents.Json("c")]);
        }

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lag = new LagService(log, time, new ServerOptions());
        await AskForAsync(lag, time, "behind", TimeSpan.FromMinutes(10)); // nothing appended, nobody consuming: lag 3 all along

        await log.Checkpoints.UpdateAsync("g", "behind", 0, 3); // an instance catches up
        TimeSpan seen = await TimeUntilLagAsync(lag, time, "behind", 0);

        Assert.True(seen <= TimeSpan.FromSeconds(1), $"a group's checkpoint moving showed after {seen}: scale-in would wait for it");
    }

    private async Task<(EventLogClient Log, StorageRequestCounter Counter)> CreateAsync(string stream, int partitions = 8)
    {
        var counter = new StorageRequestCounter();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = counter.CreateOptions() });
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = partitions });
        return (log, counter);
    }

    /// <summary>What an open StreamIsActive call does: a lag check every <see cref="Check"/>, for <paramref name="span"/> of simulated time.</summary>
    private static async Task AskForAsync(LagService lag, FakeTimeProvider time, string stream, TimeSpan span)
    {
        for (TimeSpan t = TimeSpan.Zero; t < span; t += Check)
        {
            await lag.GetLagAsync(stream, "g", InitialOffset.Earliest, CancellationToken.None);
            time.Advance(Check);
        }
    }

    private static async Task<TimeSpan> TimeUntilLagAsync(LagService lag, FakeTimeProvider time, string stream, long expected)
    {
        for (TimeSpan t = TimeSpan.Zero; t < TimeSpan.FromHours(1); t += Check)
        {
            if ((await lag.GetLagAsync(stream, "g", InitialOffset.Earliest, CancellationToken.None)).TotalLag == expected)
            {
                return t;
            }

            time.Advance(Check);
        }

        return TimeSpan.MaxValue;
    }
}
