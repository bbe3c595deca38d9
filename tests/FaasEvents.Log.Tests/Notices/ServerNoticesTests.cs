using System.Net;
using System.Net.Sockets;
using FaasEvents.Log.Notices;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Notices;

/// <summary>Append notices are best effort: whatever the server does, appends and the process they run in are unaffected.</summary>
public class ServerNoticesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Appends_succeed_and_the_producer_closes_promptly_when_the_server_is_unreachable()
    {
        var log = azurite.CreateClient(new EventLogClientOptions { ServerUrl = new Uri($"http://127.0.0.1:{ClosedPort()}/") });
        await log.CreateStreamAsync(new StreamDefinition { Name = "lonely", Partitions = 2 });
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await using (EventProducerClient producer = log.CreateProducer("lonely"))
        {
            for (int i = 0; i < 5; i++)
            {
                await producer.SendAsync(TestEvents.Json($"e{i}"));
            }
        }

        Assert.Equal(5, (await TestEvents.ReadAllAsync(log, "lonely")).Count);
        Assert.True(log.Segments.Store.Notices!.Failed > 0, "the refused notices are counted");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"closing took {sw.Elapsed}");
    }

    [Fact]
    public async Task Following_survives_a_problem_reporter_that_throws_and_ends_quietly_when_cancelled()
    {
        var notices = new ServerNotices(new Uri($"http://127.0.0.1:{ClosedPort()}/"), null, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        int reported = 0;
        Task follow = notices.FollowAsync("s", _ => { }, _ => { Interlocked.Increment(ref reported); throw new InvalidOperationException("a logger that fails"); }, stop.Token);

        await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref reported) > 0), "the outage is reported", 20);
        await Task.Delay(200);
        Assert.False(follow.IsFaulted, follow.Exception?.ToString());
        await stop.CancelAsync();
        await follow.WaitAsync(TimeSpan.FromSeconds(10)); // ends, without throwing
    }

    [Fact]
    public void An_api_key_from_a_file_is_trimmed_and_one_that_cannot_be_a_header_is_refused_naming_the_setting()
    {
        Assert.Equal("k1", FaasSettings.ParseServerApiKey("k1\n"));
        Assert.Null(FaasSettings.ParseServerApiKey("  "));
        EventLogException ex = Assert.Throws<EventLogException>(() => FaasSettings.ParseServerApiKey("k1\nk2"));
        Assert.Contains(FaasSettings.ServerApiKey, ex.Message, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // closed again when disposed: connections are refused
    }
}
