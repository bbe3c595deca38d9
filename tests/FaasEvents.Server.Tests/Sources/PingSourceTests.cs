using System.Globalization;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Sources;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Server.Tests.Sources;

public class PingSourceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Each_tick_fires_exactly_once_with_two_server_replicas()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ping", Partitions = 2 });
        string[] ping = ["--PingSources:0:Name=heartbeat", "--PingSources:0:Schedule=* * * * * *", "--PingSources:0:Stream=ping", "--PingSources:0:Data={\"message\":\"Hello world!\"}"];
        await using ServerHarness a = await ServerHarness.StartAsync(azurite, log, ping);
        await using ServerHarness b = await ServerHarness.StartAsync(azurite, log, ping);
        await Task.Delay(TimeSpan.FromSeconds(7));

        List<StoredEvent> events = await TestEvents.ReadAllAsync(log, "ping");
        Assert.True(events.Count >= 4, $"only {events.Count} ticks fired in 7 s");
        Assert.Equal(events.Count, events.Select(e => e.Event.Id).Distinct().Count()); // no tick fired twice
        List<DateTimeOffset> ticks = events.Select(e => e.Event.Time!.Value).Order().ToList();
        for (int i = 1; i < ticks.Count; i++)
        {
            Assert.Equal(TimeSpan.FromSeconds(1), ticks[i] - ticks[i - 1]); // and none skipped once a leader was elected
        }

        StoredEvent first = events[0];
        Assert.Equal((PingSourceService.EventType, "/faas/sources/ping/heartbeat", "heartbeat", "application/json"), (first.Event.Type, first.Event.Source, first.Event.PartitionKey, first.Event.DataContentType));
        Assert.Equal("{\"message\":\"Hello world!\"}", first.Event.Data!.ToString());
        Assert.StartsWith("heartbeat-" + first.Event.Time!.Value.UtcDateTime.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture), first.Event.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_source_whose_next_tick_is_years_away_keeps_the_server_running()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "leap", Partitions = 1 });
        // 29 February: the next one is more than 49.7 days away (Task.Delay's limit) on every day but the 49 before it.
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--PingSources:0:Name=leap", "--PingSources:0:Schedule=0 0 29 2 *", "--PingSources:0:Stream=leap");
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.False(server.Stopping, "the server shut down");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await server.Http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData(FaultKind.DropResponse)]
    [InlineData(FaultKind.ForwardThen500)]
    public async Task A_tick_whose_fence_write_landed_unheard_still_fires_once(FaultKind kind)
    {
        EventLogClient log = azurite.CreateClient();
        string stream = "ping-" + (int)kind;
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 1 });
        var faults = new StorageFaultInjector();
        // The second tick's "last fired" write reaches storage, but the server does not hear it did (the first tick
        // fires normally, so a lost second tick shows as a gap).
        int fences = 0;
        faults.Once(StorageOperation.SetMetadata, kind, r => r.Uri.Path.Contains("ping-sources", StringComparison.Ordinal) && r.Headers.TryGetValue("x-ms-meta-offset", out _) && ++fences == 2);
        string[] ping = ["--PingSources:0:Name=fence" + (int)kind, "--PingSources:0:Schedule=* * * * * *", $"--PingSources:0:Stream={stream}"];
        await using (ServerHarness server = await ServerHarness.StartAsync(azurite, log, faults.CreateOptions(), ping))
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
        }

        Assert.Equal(1, faults.Total);
        List<DateTimeOffset> ticks = (await TestEvents.ReadAllAsync(log, stream)).Select(e => e.Event.Time!.Value).ToList();
        Assert.True(ticks.Count >= 3, $"only {ticks.Count} ticks fired in 5 s");
        AssertEachSecondOnce(ticks);
    }

    /// <summary>
    /// Issue 13: a tick whose append or whose record ("last fired") storage keeps refusing was lost (the record was
    /// written first, then the append failed; or the record failed and the tick was never appended). Now it is
    /// appended first and recorded after, and fired again until both succeed: each tick once, none lost.
    /// </summary>
    [Theory]
    [InlineData(StorageOperation.AppendBlock)]
    [InlineData(StorageOperation.SetMetadata)]
    public async Task A_tick_storage_refuses_for_a_while_still_fires_once(string operation)
    {
        EventLogClient log = azurite.CreateClient();
        string stream = "ping-refused-" + operation.ToLowerInvariant();
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 1 });
        var faults = new StorageFaultInjector();
        int seen = 0;
        bool Target(Azure.Core.Request r) => operation == StorageOperation.AppendBlock
            ? r.Uri.Path.Contains($"/streams/{stream}/", StringComparison.Ordinal)
            : r.Uri.Path.Contains("ping-sources", StringComparison.Ordinal) && r.Headers.TryGetValue("x-ms-meta-offset", out _);
        faults.Once(operation, FaultKind.Refuse503, r => Target(r) && Interlocked.Increment(ref seen) >= 2, times: 4); // the second tick: every try of it
        string[] ping = ["--PingSources:0:Name=refused-" + operation.ToLowerInvariant(), "--PingSources:0:Schedule=* * * * * *", $"--PingSources:0:Stream={stream}"];
        await using (ServerHarness server = await ServerHarness.StartAsync(azurite, log, faults.CreateOptions(sdkRetries: 3), ping))
        {
            await Task.Delay(TimeSpan.FromSeconds(6));
        }

        Assert.Equal(4, faults.Total);
        List<DateTimeOffset> ticks = (await TestEvents.ReadAllAsync(log, stream)).Select(e => e.Event.Time!.Value).ToList();
        Assert.True(ticks.Count >= 3, $"only {ticks.Count} ticks fired in 6 s");
        AssertEachSecondOnce(ticks);
    }

    /// <summary>Issue 13: ticks that fell due while a dead leader still held the lease are fired once by the next leader (catch-up), not lost.</summary>
    [Fact]
    public async Task Ticks_missed_during_a_leader_failover_are_caught_up_each_once()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ping-failover", Partitions = 1 });
        long lastFired = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3;
        await log.Checkpoints.UpdateAsync("ping-sources", "failover", 0, lastFired + 1); // the dead leader fired up to 3 s ago
        Assert.NotNull(await log.CreateLeaseClient("dead-leader").TryAcquireAsync("ping-sources", "failover", 0, TimeSpan.FromSeconds(15))); // and never renews
        string[] ping = ["--PingSources:0:Name=failover", "--PingSources:0:Schedule=* * * * * *", "--PingSources:0:Stream=ping-failover"];
        await using (ServerHarness server = await ServerHarness.StartAsync(azurite, log, ping))
        {
            await WaitForTicksAsync(log, "ping-failover", 22, TimeSpan.FromSeconds(40)); // the lease expires after 15 s
        }

        List<DateTimeOffset> ticks = (await TestEvents.ReadAllAsync(log, "ping-failover")).Select(e => e.Event.Time!.Value).ToList();
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(lastFired + 1), ticks[0]); // from the first tick the dead leader missed
        AssertEachSecondOnce(ticks);
    }

    /// <summary>Missed ticks older than CatchUp are not fired: a leader back after an hour fires the last CatchUp's worth, once each.</summary>
    [Fact]
    public async Task Catch_up_stops_at_its_bound()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ping-bounded", Partitions = 1 });
        await log.Checkpoints.UpdateAsync("ping-sources", "bounded", 0, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600); // last fired an hour ago
        string[] ping = ["--PingSources:0:Name=bounded", "--PingSources:0:Schedule=* * * * * *", "--PingSources:0:Stream=ping-bounded", "--PingSources:0:CatchUp=00:00:05"];
        DateTimeOffset started = DateTimeOffset.UtcNow;
        await using (ServerHarness server = await ServerHarness.StartAsync(azurite, log, ping))
        {
            await WaitForTicksAsync(log, "ping-bounded", 8, TimeSpan.FromSeconds(30));
        }

        List<DateTimeOffset> ticks = (await TestEvents.ReadAllAsync(log, "ping-bounded")).Select(e => e.Event.Time!.Value).ToList();
        Assert.True(ticks[0] >= started.AddSeconds(-6), $"first tick {ticks[0]:O} is older than the 5 s catch-up before the start ({started:O})");
        AssertEachSecondOnce(ticks);
    }

    /// <summary>CatchUp zero bounds only what a new leader catches up: the ticks that fall due while leading all fire (they stopped after the first).</summary>
    [Fact]
    public async Task A_zero_catch_up_still_fires_every_tick_that_falls_due()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ping-no-catch-up", Partitions = 1 });
        string[] ping = ["--PingSources:0:Name=no-catch-up", "--PingSources:0:Schedule=* * * * * *", "--PingSources:0:Stream=ping-no-catch-up", "--PingSources:0:CatchUp=00:00:00"];
        await using (ServerHarness server = await ServerHarness.StartAsync(azurite, log, ping))
        {
            await WaitForTicksAsync(log, "ping-no-catch-up", 4, TimeSpan.FromSeconds(20));
        }

        List<DateTimeOffset> ticks = (await TestEvents.ReadAllAsync(log, "ping-no-catch-up")).Select(e => e.Event.Time!.Value).ToList();
        AssertEachSecondOnce(ticks);
    }

    /// <summary>Each tick once (duplicated 0, as readers see them) and one a second with no gap (lost 0).</summary>
    private static void AssertEachSecondOnce(List<DateTimeOffset> ticks)
    {
        Assert.Equal(ticks.Count, ticks.Distinct().Count());
        for (int i = 1; i < ticks.Count; i++)
        {
            Assert.Equal(TimeSpan.FromSeconds(1), ticks[i] - ticks[i - 1]);
        }
    }

    private static async Task WaitForTicksAsync(EventLogClient log, string stream, int count, TimeSpan limit)
    {
        DateTime deadline = DateTime.UtcNow + limit;
        while ((await TestEvents.ReadAllAsync(log, stream)).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} ticks in {stream} after {limit.TotalSeconds:0} s");
            await Task.Delay(500);
        }
    }

    [Theory]
    [InlineData("Schedule", "every minute", "is not a cron expression")]
    [InlineData("Schedule", "0 0 30 2 *", "never fires")]
    [InlineData("TimeZone", "Mars/Olympus", "time zone 'Mars/Olympus' is unknown")]
    [InlineData("Stream", "bad/stream", "Invalid stream name")]
    [InlineData("DataBase64", "!!!", "not valid base64")]
    public void Bad_ping_configuration_names_the_source_and_setting(string key, string value, string expected)
    {
        var o = new PingSourceOptions { Name = "p", Schedule = "*/1 * * * *", Stream = "s" };
        typeof(PingSourceOptions).GetProperty(key)!.SetValue(o, value);
        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => PingSourceService.Validate([o]));
        Assert.Contains("PingSources:0 ('p')", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_catch_up_bound_beyond_a_day_is_refused_with_the_range()
    {
        var o = new PingSourceOptions { Name = "p", Schedule = "*/1 * * * *", Stream = "s", CatchUp = TimeSpan.FromDays(2) };
        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => PingSourceService.Validate([o]));
        Assert.Contains("PingSources:0 ('p'): CatchUp 2.00:00:00 is out of range", ex.Message, StringComparison.Ordinal);
    }
}
