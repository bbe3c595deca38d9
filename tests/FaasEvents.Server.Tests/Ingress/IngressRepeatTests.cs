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
/// Issue 13: a client that posts an event again (its answer was lost, it timed out, it restarted) must not make a
/// second copy. The ingress remembers the CloudEvents <c>source</c> + <c>id</c> it wrote for a window (default 10
/// min) and answers a repeat with the first copy's position instead of appending it again.
/// </summary>
public class IngressRepeatTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static StringContent One(string id, string source = "/t", string? key = null) => new(
        Json(id, source, key),
        Encoding.UTF8,
        "application/cloudevents+json");

    private static StringContent Batch(params string[] ids) => new(
        "[" + string.Join(",", ids.Select(id => Json(id, "/t", null))) + "]",
        Encoding.UTF8,
        "application/cloudevents-batch+json");

    private static string Json(string id, string source, string? key) =>
        $$$"""{"specversion":"1.0","id":"{{{id}}}","source":"{{{source}}}","type":"t"{{{(key is null ? "" : $",\"partitionkey\":\"{key}\"")}}},"data":{"n":1}}""";

    private static async Task<JsonElement> AcceptedAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"HTTP {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static (int Partition, long Offset, bool Repeated) Position(JsonElement e) =>
        (e.GetProperty("partition").GetInt32(), e.GetProperty("offset").GetInt64(), e.TryGetProperty("repeated", out JsonElement r) && r.GetBoolean());

    [Fact]
    public async Task An_event_posted_twice_is_stored_once_and_the_repeat_answers_the_first_position()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "repeat-one", Partitions = 4 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        Uri url = new("/streams/repeat-one/events", UriKind.Relative);

        (int Partition, long Offset, bool Repeated) first = Position(await AcceptedAsync(await server.Http.PostAsync(url, One("order-1"))));
        (int Partition, long Offset, bool Repeated) again = Position(await AcceptedAsync(await server.Http.PostAsync(url, One("order-1")))); // unkeyed: the sticky partition may have moved on
        (int Partition, long Offset, bool Repeated) otherSource = Position(await AcceptedAsync(await server.Http.PostAsync(url, One("order-1", source: "/other")))); // a different event

        Assert.False(first.Repeated);
        Assert.Equal((first.Partition, first.Offset, true), again);
        Assert.False(otherSource.Repeated);
        List<StoredEvent> stored = await TestEvents.ReadAllAsync(log, "repeat-one");
        Assert.Equal(["/other", "/t"], stored.Select(e => e.Event.Source).Order()); // duplicated: 0
    }

    [Fact]
    public async Task A_batch_retried_with_new_events_stores_only_the_new_ones_and_a_repeat_within_a_batch_once()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "repeat-batch", Partitions = 2 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        Uri url = new("/streams/repeat-batch/events", UriKind.Relative);

        JsonElement first = await AcceptedAsync(await server.Http.PostAsync(url, Batch("a", "b")));
        JsonElement second = await AcceptedAsync(await server.Http.PostAsync(url, Batch("b", "c", "c")));

        var b1 = Position(first.GetProperty("results")[1]);
        JsonElement[] results = [.. second.GetProperty("results").EnumerateArray()];
        Assert.Equal(["b", "c", "c"], results.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal((b1.Partition, b1.Offset, true), Position(results[0]));
        Assert.False(Position(results[1]).Repeated);
        Assert.Equal(Position(results[1]) with { Repeated = true }, Position(results[2]));
        Assert.Equal(["a", "b", "c"], (await TestEvents.ReadAllAsync(log, "repeat-batch")).Select(e => e.Event.Id).Order());
    }

    [Fact]
    public async Task Concurrent_posts_of_the_same_event_store_it_once()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "repeat-race", Partitions = 2 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        Uri url = new("/streams/repeat-race/events", UriKind.Relative);

        JsonElement[] answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ => await AcceptedAsync(await server.Http.PostAsync(url, One("racer")))));

        Assert.Single(answers.Select(a => (Position(a).Partition, Position(a).Offset)).Distinct());
        Assert.Equal(7, answers.Count(a => Position(a).Repeated));
        Assert.Single(await TestEvents.ReadAllAsync(log, "repeat-race"));
    }

    [Fact]
    public async Task A_repeat_after_a_server_restart_is_recognised_from_the_stream_tail()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "repeat-restart", Partitions = 3 });
        Uri url = new("/streams/repeat-restart/events", UriKind.Relative);
        (int Partition, long Offset, bool Repeated) first;
        await using (ServerHarness server = await ServerHarness.StartAsync(azurite, log))
        {
            first = Position(await AcceptedAsync(await server.Http.PostAsync(url, One("before-restart", key: "k"))));
            await AcceptedAsync(await server.Http.PostAsync(url, Batch("x", "y")));
        }

        await using (ServerHarness restarted = await ServerHarness.StartAsync(azurite, log))
        {
            Assert.Equal((first.Partition, first.Offset, true), Position(await AcceptedAsync(await restarted.Http.PostAsync(url, One("before-restart", key: "k")))));
        }

        Assert.Equal(["before-restart", "x", "y"], (await TestEvents.ReadAllAsync(log, "repeat-restart")).Select(e => e.Event.Id).Order());
    }

    /// <summary>An append whose answer was lost and could not be checked is 'unknown'; its retry looks in the log, finds it, and does not write it again.</summary>
    [Fact]
    public async Task A_retry_after_an_unknown_outcome_finds_the_copy_that_landed()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "repeat-unknown", Partitions = 1 });
        var faults = new StorageFaultInjector();
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, faults.CreateOptions(sdkRetries: 0));
        Uri url = new("/streams/repeat-unknown/events", UriKind.Relative);
        await AcceptedAsync(await server.Http.PostAsync(url, One("warm-up")));
        bool Stream(Azure.Core.Request r) => r.Uri.Path.Contains("/streams/repeat-unknown/", StringComparison.Ordinal);
        faults.Once(StorageOperation.AppendBlock, FaultKind.DropResponse, Stream); // lands, the answer is lost
        faults.Once(StorageOperation.GetBlob, FaultKind.Refuse503, Stream, times: int.MaxValue); // and the producer cannot look

        HttpResponseMessage lost = await server.Http.PostAsync(url, One("lost-answer"));
        string body = await lost.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, lost.StatusCode);
        Assert.Equal("unknown", JsonDocument.Parse(body).RootElement.GetProperty("results")[0].GetProperty("status").GetString());

        faults.Clear();
        (int Partition, long Offset, bool Repeated) retried = Position(await AcceptedAsync(await server.Http.PostAsync(url, One("lost-answer"))));
        Assert.Equal((0, 1L, true), retried);
        Assert.Equal(["lost-answer", "warm-up"], (await TestEvents.ReadAllAsync(log, "repeat-unknown")).Select(e => e.Event.Id).Order()); // duplicated: 0
    }

    /// <summary>A client that gives up while its append is on its way and posts again gets the first copy, not a second one.</summary>
    [Fact]
    public async Task A_client_that_disconnects_mid_append_and_posts_again_gets_one_copy()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "repeat-abort", Partitions = 1 });
        var faults = new StorageFaultInjector { Delay = TimeSpan.FromSeconds(2) };
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, faults.CreateOptions(sdkRetries: 0));
        Uri url = new("/streams/repeat-abort/events", UriKind.Relative);
        await AcceptedAsync(await server.Http.PostAsync(url, One("warm-up")));
        faults.Once(StorageOperation.AppendBlock, FaultKind.Delay, r => r.Uri.Path.Contains("/streams/repeat-abort/", StringComparison.Ordinal));

        using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(500)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.Http.PostAsync(url, One("impatient"), impatient.Token));
        }

        Assert.True(Position(await AcceptedAsync(await server.Http.PostAsync(url, One("impatient")))).Repeated);
        Assert.Equal(["impatient", "warm-up"], (await TestEvents.ReadAllAsync(log, "repeat-abort")).Select(e => e.Event.Id).Order()); // duplicated: 0
    }

    /// <summary>A stream deleted and created again starts with no memory of the old stream's events: posting one again writes it to the new stream, at once.</summary>
    [Fact]
    public async Task A_stream_created_again_does_not_answer_repeats_with_the_old_streams_positions()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "repeat-recreated", Partitions = 1 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        Uri url = new("/streams/repeat-recreated/events", UriKind.Relative);
        await AcceptedAsync(await server.Http.PostAsync(url, One("again")));

        await log.DeleteStreamAsync("repeat-recreated");
        await log.CreateStreamAsync(new StreamDefinition { Name = "repeat-recreated", Partitions = 1 }); // by another replica or the CLI: this server still trusts the old definition

        // Before: within KnownStreams.Ttl of the re-creation the repeat was answered with the old stream's position (202, not stored).
        Assert.False(Position(await AcceptedAsync(await server.Http.PostAsync(url, One("again")))).Repeated);
        Assert.Equal(["again"], (await TestEvents.ReadAllAsync(log, "repeat-recreated")).Select(e => e.Event.Id)); // lost: 0
    }

    [Fact]
    public async Task A_zero_window_turns_repeat_detection_off()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "repeat-off", Partitions = 1 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_INGRESS_REPEAT_WINDOW=00:00:00");
        Uri url = new("/streams/repeat-off/events", UriKind.Relative);

        await AcceptedAsync(await server.Http.PostAsync(url, One("twice")));
        Assert.False(Position(await AcceptedAsync(await server.Http.PostAsync(url, One("twice")))).Repeated);
        Assert.Equal(2, (await TestEvents.ReadAllAsync(log, "repeat-off")).Count);
    }
}
