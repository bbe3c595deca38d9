using System.Globalization;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Sources;
using FaasEvents.Testing;
using FaasEvents.Testing.Faults;

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
        Assert.Equal(ticks.Count, ticks.Distinct().Count()); // duplicated 0
        for (int i = 1; i < ticks.Count; i++)
        {
            Assert.Equal(TimeSpan.FromSeconds(1), ticks[i] - ticks[i - 1]); // lost 0: the faulted tick fired too
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
}
