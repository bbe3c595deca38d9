using System.Net;
using System.Text;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Server.Tests.Ingress;

/// <summary>
/// Append notices through the server: a process appending directly to storage tells the server where, and function
/// instances watching the stream hear of it at once, so neither the scaler nor a warm instance waits for a poll.
/// </summary>
public class AppendNoticeTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_notice_posted_for_a_stream_reaches_every_watcher_of_it_with_the_partitions()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "watched", Partitions = 4 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        CancellationToken ct = TestEvents.Timeout(30);

        await using SseWatch first = await SseWatch.OpenAsync(server.Http, "watched", ct);
        await using SseWatch second = await SseWatch.OpenAsync(server.Http, "watched", ct);
        HttpResponseMessage posted = await server.Http.PostAsync(new Uri("/streams/watched/appended", UriKind.Relative), Json("""[{"partition":3,"offset":0},{"partition":1,"offset":7}]"""), ct);

        Assert.Equal(HttpStatusCode.NoContent, posted.StatusCode);
        Assert.Equal("1,3", await first.NextDataAsync(ct));
        Assert.Equal("1,3", await second.NextDataAsync(ct));
    }

    [Fact]
    public async Task Bad_notices_and_watches_are_refused_naming_the_problem()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "strict", Partitions = 2 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_INGRESS_API_KEYS=k1");
        CancellationToken ct = TestEvents.Timeout(30);

        HttpResponseMessage noKey = await server.Http.GetAsync(new Uri("/streams/strict/appends", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);

        using var outOfRange = new HttpRequestMessage(HttpMethod.Post, "/streams/strict/appended") { Content = Json("""[{"partition":2,"offset":0}]""") };
        outOfRange.Headers.Add("x-api-key", "k1");
        HttpResponseMessage range = await server.Http.SendAsync(outOfRange, ct);
        Assert.Equal(HttpStatusCode.BadRequest, range.StatusCode);
        Assert.Contains("partitions 0..1", await range.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);

        using var garbage = new HttpRequestMessage(HttpMethod.Post, "/streams/strict/appended") { Content = Json("""{"p":1}""") };
        garbage.Headers.Add("x-api-key", "k1");
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.SendAsync(garbage, ct)).StatusCode);

        using var missing = new HttpRequestMessage(HttpMethod.Post, "/streams/nope/appended") { Content = Json("""[]""") };
        missing.Headers.Add("x-api-key", "k1");
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.SendAsync(missing, ct)).StatusCode);
    }

    [Fact]
    public async Task An_append_by_another_process_wakes_a_waiting_reader_through_the_server_at_once()
    {
        EventLogClient setup = azurite.CreateClient();
        await setup.CreateStreamAsync(new StreamDefinition { Name = "relay", Partitions = 2 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, setup);
        CancellationToken ct = TestEvents.Timeout(60);
        var serverUrl = new Uri($"http://127.0.0.1:{server.HttpPort}/");

        // The consumer has a doorbell of its own, as if it were another process: only the server's notice can wake its reader.
        var consumer = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = setup.Container.Name, ServerUrl = serverUrl, Bell = new AppendBell() });
        var producerClient = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = setup.Container.Name, ServerUrl = serverUrl });
        await using EventProducerClient producer = producerClient.CreateProducer("relay", new EventProducerOptions { Linger = TimeSpan.Zero });
        await producer.SendAsync(TestEvents.Json("first"), 0, ct);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var problems = new List<string>();
        Task watch = consumer.FollowServerNoticesAsync("relay", problems.Add, stop.Token);
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new ReadOptions { From = StartPosition.FromOffset(1), Follow = true, PollInterval = TimeSpan.FromMinutes(10), MaxPollInterval = TimeSpan.FromMinutes(10) };
        Task read = Task.Run(async () =>
        {
            await foreach (StoredEvent e in consumer.ReadPartitionAsync("relay", 0, options, stop.Token))
            {
                got.TrySetResult(e.Event.Id);
            }
        });

        await Eventually.UntilAsync(() => Task.FromResult(server.Watchers.Count("relay") == 1), "the consumer watches the stream", 20);
        await Task.Delay(300, ct); // the reader is at the end and waiting
        await producer.SendAsync(TestEvents.Json("second"), 0, ct);

        Assert.Equal("second", await got.Task.WaitAsync(TimeSpan.FromSeconds(20), ct));
        Assert.Empty(problems);
        await stop.CancelAsync();
        await watch; // ends quietly when cancelled
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public async Task A_notice_never_decides_where_a_latest_group_starts_only_storage_does()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "pinned", Partitions = 1 });
        await using (EventProducerClient p = log.CreateProducer("pinned"))
        {
            await p.SendBatchAsync(Enumerable.Range(0, 3).Select(i => TestEvents.Json($"e{i}")));
        }

        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        CancellationToken ct = TestEvents.Timeout(30);

        // The stream's ends are read (and cached) for another group, then a wrong notice (a buggy or hostile client)
        // claims 500 events; storage holds 3.
        await server.Scaler.GetMetricsAsync(new FaasEvents.Server.Scaling.Grpc.GetMetricsRequest { ScaledObjectRef = ServerHarness.Ref(("stream", "pinned"), ("consumerGroup", "early")) }, cancellationToken: ct);
        HttpResponseMessage posted = await server.Http.PostAsync(new Uri("/streams/pinned/appended", UriKind.Relative), Json("""[{"partition":0,"offset":499}]"""), ct);
        Assert.Equal(HttpStatusCode.NoContent, posted.StatusCode);
        await server.Scaler.GetMetricsAsync(new FaasEvents.Server.Scaling.Grpc.GetMetricsRequest { ScaledObjectRef = ServerHarness.Ref(("stream", "pinned"), ("consumerGroup", "late"), ("initialOffset", "latest")) }, cancellationToken: ct);

        // The group's start is pinned where storage ends: the next event appended (offset 3) is delivered, none skipped.
        Assert.Equal(3, (await log.Checkpoints.GetAsync("late", "pinned", 0, ct))!.NextOffset);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>A server-sent events watch of a stream's appends.</summary>
    private sealed class SseWatch : IAsyncDisposable
    {
        private readonly HttpResponseMessage response;
        private readonly StreamReader reader;

        private SseWatch(HttpResponseMessage response, StreamReader reader)
        {
            this.response = response;
            this.reader = reader;
        }

        public static async Task<SseWatch> OpenAsync(HttpClient http, string stream, CancellationToken ct)
        {
            HttpResponseMessage response = await http.GetAsync(new Uri($"/streams/{stream}/appends", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, ct);
            response.EnsureSuccessStatusCode();
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            Assert.StartsWith(": watching", await reader.ReadLineAsync(ct), StringComparison.Ordinal); // registered before this line is sent
            return new SseWatch(response, reader);
        }

        public async Task<string> NextDataAsync(CancellationToken ct)
        {
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    return line[6..];
                }
            }

            throw new EndOfStreamException("the watch ended");
        }

        public ValueTask DisposeAsync()
        {
            reader.Dispose();
            response.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
