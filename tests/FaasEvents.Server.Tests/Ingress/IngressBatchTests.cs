using System.Net;
using System.Text;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Server.Tests.Ingress;

/// <summary>
/// A batch spanning partitions cannot be one append; when part of it fails the answer says exactly which events were
/// written, so a retry of the rest does not duplicate (issue 12, defect 7). And the stream's definition is not read
/// from storage per request.
/// </summary>
public class IngressBatchTests(AzuriteFixture azurite, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static StringContent Batch(IEnumerable<string> ids) => new(
        "[" + string.Join(",", ids.Select(id => $$$"""{"specversion":"1.0","id":"{{{id}}}","source":"/t","type":"t","partitionkey":"{{{id}}}","data":{"n":1}}""")) + "]",
        Encoding.UTF8,
        "application/cloudevents-batch+json");

    [Fact]
    public async Task A_batch_whose_append_fails_in_one_partition_answers_which_events_were_written_and_a_retry_of_the_rest_stores_each_once()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "partial", Partitions = 2 });
        var faults = new StorageFaultInjector();
        faults.Once(StorageOperation.AppendBlock, FaultKind.Refuse503, r => r.Uri.Path.Contains("/streams/partial/00001/", StringComparison.Ordinal), times: int.MaxValue);
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, faults.CreateOptions(sdkRetries: 0));
        string[] ids = Enumerable.Range(0, 12).Select(i => $"e{i}").ToArray();

        HttpResponseMessage first = await server.Http.PostAsync(new Uri("/streams/partial/events", UriKind.Relative), Batch(ids));
        string body = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal("application/problem+json", first.Content.Headers.ContentType?.MediaType);
        using JsonDocument answer = JsonDocument.Parse(body);
        var results = answer.RootElement.GetProperty("results").EnumerateArray().Select(r => (Id: r.GetProperty("id").GetString()!, Status: r.GetProperty("status").GetString()!)).ToList();
        Assert.Equal(ids, results.Select(r => r.Id)); // one result per event, in the batch's order
        string[] written = results.Where(r => r.Status == "written").Select(r => r.Id).ToArray();
        string[] notWritten = results.Where(r => r.Status != "written").Select(r => r.Id).ToArray();
        output.WriteLine($"HTTP {(int)first.StatusCode}: {string.Join(", ", results.Select(r => $"{r.Id}={r.Status}"))}");
        Assert.NotEmpty(written);
        Assert.NotEmpty(notWritten);
        Assert.Equal(written.Order(), (await TestEvents.ReadAllAsync(log, "partial")).Select(e => e.Event.Id).Order()); // exactly what it said

        faults.Clear();
        HttpResponseMessage retry = await server.Http.PostAsync(new Uri("/streams/partial/events", UriKind.Relative), Batch(notWritten));
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        List<StoredEvent> stored = await TestEvents.ReadAllAsync(log, "partial");
        Assert.Equal(ids.Order(), stored.Select(e => e.Event.Id).Order()); // each once
    }

    [Fact]
    public async Task Ingress_requests_do_not_read_the_stream_definition_from_storage_each_time()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "hot", Partitions = 2 });
        var counter = new StorageRequestCounter();
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, counter.CreateOptions());
        Assert.Equal(HttpStatusCode.Accepted, (await server.Http.PostAsync(new Uri("/streams/hot/events", UriKind.Relative), Batch(Enumerable.Range(0, 10).Select(i => $"warm{i}")))).StatusCode); // both partitions: their segments exist now
        Assert.Equal(HttpStatusCode.Accepted, (await server.Http.PostAsync(new Uri("/streams/hot/events", UriKind.Relative), Batch(["warm"]))).StatusCode);

        Dictionary<string, int> before = counter.ByOperation.ToDictionary();
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await server.Http.PostAsync(new Uri("/streams/hot/events", UriKind.Relative), Batch([$"h{i}"]))).StatusCode);
        }

        var extra = counter.ByOperation.Where(kv => kv.Key != StorageOperation.AppendBlock && kv.Value > before.GetValueOrDefault(kv.Key)).Select(kv => $"{kv.Key}={kv.Value - before.GetValueOrDefault(kv.Key)}").ToList();
        Assert.True(extra.Count == 0, "20 ingress requests cost storage requests besides their appends: " + string.Join(", ", extra));
    }
}
