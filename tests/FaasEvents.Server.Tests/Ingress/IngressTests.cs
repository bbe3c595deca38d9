using System.Net;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Extensions;
using CloudNative.CloudEvents.Http;
using CloudNative.CloudEvents.SystemTextJson;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Server.Tests.Ingress;

/// <summary>The CloudEvents HTTP ingress, driven by the CloudEvents SDK's own HTTP binding.</summary>
public class IngressTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly JsonEventFormatter Formatter = new();

    private static CloudEvent Event(string id, string? key = null, object? data = null)
    {
        var ce = new CloudEvent(CloudEventsSpecVersion.V1_0, [Partitioning.PartitionKeyAttribute])
        {
            Id = id,
            Source = new Uri("/tests/ingress", UriKind.Relative),
            Type = "com.example.test",
            Time = DateTimeOffset.UtcNow,
            DataContentType = "application/json",
            Data = data ?? new { n = 1 },
        };
        if (key is not null)
        {
            ce.SetPartitionKey(key);
        }

        return ce;
    }

    [Fact]
    public async Task Binary_structured_and_batched_modes_are_accepted_and_read_back()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "in", Partitions = 4 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        Uri url = new("/streams/in/events", UriKind.Relative);

        HttpResponseMessage binary = await server.Http.PostAsync(url, Event("bin-1", key: "k-bin").ToHttpContent(ContentMode.Binary, Formatter));
        HttpResponseMessage structured = await server.Http.PostAsync(url, Event("str-1", key: "k-str").ToHttpContent(ContentMode.Structured, Formatter));
        HttpResponseMessage batch = await server.Http.PostAsync(url, new[] { Event("bat-1"), Event("bat-2", key: "k-bat") }.ToHttpContent(Formatter));

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted], new[] { binary.StatusCode, structured.StatusCode, batch.StatusCode });
        JsonElement one = JsonDocument.Parse(await binary.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(KeyPartitioner.GetPartition("k-bin", 4), one.GetProperty("partition").GetInt32()); // partitionkey extension -> key
        Assert.Equal(0, one.GetProperty("offset").GetInt64());
        Assert.Equal(2, JsonDocument.Parse(await batch.Content.ReadAsStringAsync()).RootElement.GetProperty("results").GetArrayLength());

        List<StoredEvent> stored = await TestEvents.ReadAllAsync(log, "in");
        Assert.Equal(["bat-1", "bat-2", "bin-1", "str-1"], stored.Select(e => e.Event.Id).Order()); // lost: none
        StoredEvent bin = stored.Single(e => e.Event.Id == "bin-1");
        Assert.Equal(("k-bin", "com.example.test", "/tests/ingress", "application/json"), (bin.Event.PartitionKey, bin.Event.Type, bin.Event.Source, bin.Event.DataContentType));
        Assert.Equal("{\"n\":1}", bin.Event.Data!.ToString());
        Assert.Equal("k-str", stored.Single(e => e.Event.Id == "str-1").Event.PartitionKey);
    }

    [Theory]
    [InlineData("application/cloudevents+json", "{\"specversion\":\"1.0\",\"id\":\"1\",\"type\":\"t\"}", 400, "source")]
    [InlineData("application/cloudevents+json", "{not json", 400, "Malformed CloudEvent")]
    [InlineData("application/cloudevents-batch+json", "[]", 400, "Empty batch")]
    [InlineData("application/cloudevents-batch+json", "{\"specversion\":\"1.0\"}", 400, "Malformed CloudEvent")]
    [InlineData("application/cloudevents+json", "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"partitionkey\":42}", 400, "'partitionkey' must be a JSON string")]
    [InlineData("application/cloudevents+json", "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"partitionkey\":true}", 400, "'partitionkey' must be a JSON string")]
    [InlineData("application/cloudevents-batch+json", "[{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"partitionkey\":7}]", 400, "'partitionkey' must be a JSON string")]
    [InlineData("application/cloudevents+xml", "<e/>", 415, "not supported")]
    [InlineData("text/plain", "hello", 415, "is not a CloudEvent")]
    public async Task Malformed_input_is_a_problem_naming_what_is_wrong(string contentType, string body, int status, string expected)
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "bad" });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        HttpResponseMessage r = await server.Http.PostAsync(new Uri("/streams/bad/events", UriKind.Relative), content);

        Assert.Equal(status, (int)r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await TestEvents.ReadAllAsync(log, "bad")); // nothing half-written
    }

    [Fact]
    public async Task Binary_mode_without_required_headers_is_400()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "hdr" });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/streams/hdr/events") { Content = new StringContent("x") };
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-id", "1");
        request.Headers.Add("ce-source", "/s");
        HttpResponseMessage r = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("'ce-type'", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_stream_is_404_and_oversize_is_413()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "sized" });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        HttpResponseMessage missing = await server.Http.PostAsync(new Uri("/streams/ghost/events", UriKind.Relative), Event("g").ToHttpContent(ContentMode.Structured, Formatter));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("Stream 'ghost' does not exist", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        CloudEvent big = Event("big");
        big.DataContentType = "application/octet-stream";
        big.Data = new byte[LogEvent.MaxEncodedSize + 10];
        HttpResponseMessage tooBigEvent = await server.Http.PostAsync(new Uri("/streams/sized/events", UriKind.Relative), big.ToHttpContent(ContentMode.Binary, Formatter));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBigEvent.StatusCode);
        Assert.Contains("1 MiB", await tooBigEvent.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var huge = new ByteArrayContent(new byte[5 * 1024 * 1024]);
        huge.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/cloudevents+json");
        // Expect: 100-continue, as a well-behaved client sends a large body: Kestrel answers 413 from the declared length
        // before the body is sent. Without it the server may close while the client still writes (broken pipe, flaky).
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/streams/sized/events", UriKind.Relative)) { Content = huge };
        request.Headers.ExpectContinue = true;
        HttpResponseMessage tooBigBody = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBigBody.StatusCode);
        Assert.Empty(await TestEvents.ReadAllAsync(log, "sized"));
    }

    [Fact]
    public async Task Api_key_or_bearer_token_is_required_when_configured()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "auth" });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_INGRESS_API_KEYS=key-one,key-two");
        Uri url = new("/streams/auth/events", UriKind.Relative);

        HttpResponseMessage anonymous = await server.Http.PostAsync(url, Event("a").ToHttpContent(ContentMode.Structured, Formatter));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Post, url) { Content = Event("w").ToHttpContent(ContentMode.Structured, Formatter) };
        wrong.Headers.Add("x-api-key", "key-three");
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.SendAsync(wrong)).StatusCode);

        using var apiKey = new HttpRequestMessage(HttpMethod.Post, url) { Content = Event("k").ToHttpContent(ContentMode.Structured, Formatter) };
        apiKey.Headers.Add("x-api-key", "key-two");
        Assert.Equal(HttpStatusCode.Accepted, (await server.Http.SendAsync(apiKey)).StatusCode);

        using var bearer = new HttpRequestMessage(HttpMethod.Post, url) { Content = Event("b").ToHttpContent(ContentMode.Structured, Formatter) };
        bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "key-one");
        Assert.Equal(HttpStatusCode.Accepted, (await server.Http.SendAsync(bearer)).StatusCode);

        Assert.Equal(["b", "k"], (await TestEvents.ReadAllAsync(log, "auth")).Select(e => e.Event.Id).Order());
    }

    [Fact]
    public async Task An_event_that_breaks_the_streams_schema_is_refused_with_the_violations_and_its_batch_is_not_written()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "typed", Partitions = 2 });
        await log.Schemas.RegisterAsync("typed", """{"type": "object", "properties": {"n": {"type": "integer", "maximum": 10}}, "required": ["n"]}""");
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);

        HttpResponseMessage ok = await server.Http.PostAsync(new Uri("/streams/typed/events", UriKind.Relative), Event("t1", data: new { n = 3 }).ToHttpContent(ContentMode.Structured, Formatter));
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);

        CloudEvent[] batch = [Event("t2", data: new { n = 4 }), Event("t3", data: new { n = 11 })];
        HttpResponseMessage refused = await server.Http.PostAsync(new Uri("/streams/typed/events", UriKind.Relative), batch.ToHttpContent(Formatter));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        JsonElement problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Event does not match the stream's schema", problem.GetProperty("title").GetString());
        string detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("event 1 ('t3'): $.n:", detail, StringComparison.Ordinal);
        Assert.Contains("(maximum)", detail, StringComparison.Ordinal);
        Assert.Equal(1, (await log.GetPartitionsAsync("typed")).Sum(p => p.EndOffset)); // t2 was not written either

        HttpResponseMessage again = await server.Http.PostAsync(new Uri("/streams/typed/events", UriKind.Relative), Event("t2", data: new { n = 4 }).ToHttpContent(ContentMode.Structured, Formatter));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode); // its id was not taken by the refused batch
        Assert.False(JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("repeated").GetBoolean());
    }

    [Fact]
    public async Task A_stream_with_an_owner_takes_events_only_from_the_caller_authenticated_as_it()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "owned", Partitions = 1 });
        await log.Schemas.SetOwnerAsync("owned", "payment-service", by: "test");
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_API_KEYS=payment-service=pay-0123456789abcdef, reporting=rep-0123456789abcdef");
        async Task<HttpResponseMessage> PostAs(string key, string id)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/streams/owned/events", UriKind.Relative)) { Content = Event(id).ToHttpContent(ContentMode.Structured, Formatter) };
            request.Headers.Add("x-api-key", key);
            return await server.Http.SendAsync(request);
        }

        HttpResponseMessage refused = await PostAs("rep-0123456789abcdef", "r1");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        JsonElement problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Not the stream's owner", problem.GetProperty("title").GetString());
        Assert.Contains("single writer, 'payment-service'; this producer is 'reporting'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Accepted, (await PostAs("pay-0123456789abcdef", "p1")).StatusCode);
        StoredEvent stored = Assert.Single(await log.ReadPartitionAsync("owned", 0).ToListAsync());
        Assert.Equal(("p1", (object)"payment-service"), (stored.Event.Id, stored.Event.Extensions["faasproducer"]));
    }

    [Fact]
    public async Task Admin_lists_streams_reports_lag_health_and_metrics()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "adm", Partitions = 2 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        await server.Http.PostAsync(new Uri("/streams/adm/events", UriKind.Relative), Event("x").ToHttpContent(ContentMode.Structured, Formatter));

        JsonElement lag = JsonDocument.Parse(await server.Http.GetStringAsync(new Uri("/streams/adm/groups/g/lag", UriKind.Relative))).RootElement;
        Assert.Equal(1, lag.GetProperty("totalLag").GetInt64());
        Assert.Equal(2, lag.GetProperty("partitions").GetArrayLength());
        Assert.Contains("\"adm\"", await server.Http.GetStringAsync(new Uri("/streams", UriKind.Relative)), StringComparison.Ordinal);
        Assert.Contains("healthy", await server.Http.GetStringAsync(new Uri("/healthz", UriKind.Relative)), StringComparison.Ordinal);
        string metrics = await server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(1, PrometheusText.Value(metrics, "faas_ingress_events_total", ("messaging_destination_name", "adm")));
        Assert.Equal(1, PrometheusText.Sum(metrics, "faas_consumer_lag", ("messaging_destination_name", "adm"), ("messaging_consumer_group_name", "g")));
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync(new Uri("/streams/ghost/groups/g/lag", UriKind.Relative))).StatusCode);

        await log.ApplyRetentionAsync("adm");
        JsonElement stream = JsonDocument.Parse(await server.Http.GetStringAsync(new Uri("/streams/adm", UriKind.Relative))).RootElement;
        Assert.Equal(2, stream.GetProperty("partitionInfo").GetArrayLength());
        Assert.Equal(1, stream.GetProperty("partitionInfo").EnumerateArray().Sum(p => p.GetProperty("endOffset").GetInt64()));
        JsonElement pass = Assert.Single(stream.GetProperty("lastPasses").EnumerateArray());
        Assert.Equal(("retention", 0L), (pass.GetProperty("kind").GetString(), pass.GetProperty("segments").GetInt64()));
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync(new Uri("/streams/ghost", UriKind.Relative))).StatusCode);
    }
}
