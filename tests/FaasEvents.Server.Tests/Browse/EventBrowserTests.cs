using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Server.Tests.Browse;

/// <summary><c>GET /streams/{stream}/events</c> (the console's event browser, issue 20): pages, filters, starts, errors.</summary>
public class EventBrowserTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_stream_is_paged_through_once_filtered_by_id_key_and_type_and_started_at_latest_offset_or_time()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "browse", Partitions = 2 });
        DateTimeOffset beforeSecondHalf;
        await using (EventProducerClient producer = log.CreateProducer("browse"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 20).Select(i => Event(i)), 0);
            await Task.Delay(50);
            beforeSecondHalf = DateTimeOffset.UtcNow;
            await Task.Delay(50);
            await producer.SendBatchAsync(Enumerable.Range(20, 10).Select(i => Event(i)), 1);
            await producer.SendBatchAsync([new LogEvent("gone", "/test", "deleted") { PartitionKey = "k1" }], 1); // no data: a tombstone
        }

        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);

        // Paging: every event once, in pages of 7, by following 'next'.
        var seen = new List<string>();
        string? next = null;
        int pages = 0;
        do
        {
            JsonElement page = await Get($"/streams/browse/events?limit=7{(next is null ? "" : "&cursor=" + Uri.EscapeDataString(next))}");
            seen.AddRange(page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!));
            next = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
            pages++;
        }
        while (next is not null && pages < 20);
        Assert.Equal(31, seen.Count);
        Assert.Equal(31, seen.Distinct().Count());
        Assert.Equal(5, pages);

        // Find an event by id: its position, its data as JSON.
        JsonElement byId = Assert.Single((await Get("/streams/browse/events?id=e-23")).GetProperty("events").EnumerateArray());
        Assert.Equal(1, byId.GetProperty("partition").GetInt32());
        Assert.Equal(3, byId.GetProperty("offset").GetInt64());
        Assert.Equal(23, byId.GetProperty("data").GetProperty("n").GetInt32());
        Assert.False(byId.GetProperty("tombstone").GetBoolean());

        // Filters: key, type; the tombstone shown as such.
        JsonElement[] k1 = [.. (await Get("/streams/browse/events?key=k1&limit=100")).GetProperty("events").EnumerateArray()];
        Assert.Equal(11, k1.Length); // every third of 30, plus the tombstone
        Assert.True(k1.Single(e => e.GetProperty("id").GetString() == "gone").GetProperty("tombstone").GetBoolean());
        Assert.Equal(["gone"], (await Get("/streams/browse/events?type=deleted")).GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()));

        // Starts: the latest events of a partition, from an offset, from a time.
        Assert.Equal(["e-17", "e-18", "e-19"], Ids(await Get("/streams/browse/events?partition=0&from=latest&limit=3")));
        Assert.Equal(["e-5", "e-6"], Ids(await Get("/streams/browse/events?partition=0&from=5&limit=2")));
        string[] afterTime = Ids(await Get($"/streams/browse/events?from={Uri.EscapeDataString(beforeSecondHalf.ToString("O"))}&limit=100"));
        Assert.Equal(11, afterTime.Length); // e-20..e-29 and the tombstone, nothing of partition 0
        Assert.DoesNotContain("e-19", afterTime);

        // Errors name what is wrong.
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/streams/nope/events")).StatusCode);
        HttpResponseMessage badFrom = await server.Http.GetAsync("/streams/browse/events?from=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, badFrom.StatusCode);
        Assert.Contains("earliest, latest, an offset or an ISO 8601 time", await badFrom.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        HttpResponseMessage badPartition = await server.Http.GetAsync("/streams/browse/events?partition=9");
        Assert.Equal(HttpStatusCode.BadRequest, badPartition.StatusCode);
        Assert.Contains("partitions 0-1", await badPartition.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.GetAsync("/streams/browse/events?limit=501")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.GetAsync("/streams/browse/events?cursor=zero")).StatusCode);

        async Task<JsonElement> Get(string path) => await server.Http.GetFromJsonAsync<JsonElement>(path);
    }

    private static string[] Ids(JsonElement page) => [.. page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!)];

    private static LogEvent Event(int i) => new($"e-{i}", "/test", i % 2 == 0 ? "even" : "odd")
    {
        PartitionKey = $"k{i % 3}",
        DataContentType = "application/json",
        Data = BinaryData.FromObjectAsJson(new { n = i }),
    };
}
