using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Server.Tests.Admin;

/// <summary>The consumer-group admin API: the same operations and refusals as <c>faas groups</c>, as HTTP statuses.</summary>
public class GroupEndpointsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Groups_are_listed_described_reset_and_deleted_over_http()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "refunds", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("refunds"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 6).Select(i => TestEvents.Json($"r{i}")), 0);
            await producer.SendBatchAsync(Enumerable.Range(0, 2).Select(i => TestEvents.Json($"s{i}")), 1);
        }

        await log.Checkpoints.UpdateAsync("notify", "refunds", 0, 6);
        PartitionLease held = (await log.CreateLeaseClient("notify-1").TryAcquireAsync("notify", "refunds", 1, TimeSpan.FromSeconds(15)))!;
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);

        JsonElement list = await server.Http.GetFromJsonAsync<JsonElement>("/groups?stream=refunds");
        Assert.Equal("notify", list[0].GetProperty("group").GetString());
        Assert.Equal(1, list[0].GetProperty("owned").GetInt32());

        JsonElement describe = await server.Http.GetFromJsonAsync<JsonElement>("/streams/refunds/groups/notify");
        Assert.Equal(6, describe[0].GetProperty("checkpoint").GetInt64());
        Assert.Equal("notify-1", describe[1].GetProperty("owner").GetString());

        HttpResponseMessage dry = await server.Http.PostAsJsonAsync("/streams/refunds/groups/notify/reset", new { to = "earliest", dryRun = true });
        Assert.Equal(HttpStatusCode.OK, dry.StatusCode);
        Assert.Equal(6, (await dry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("partitions")[0].GetProperty("lagAfter").GetInt64());
        Assert.Equal(6L, (await log.Checkpoints.GetAsync("notify", "refunds", 0))!.NextOffset);

        HttpResponseMessage owned = await server.Http.PostAsJsonAsync("/streams/refunds/groups/notify/reset", new { to = "earliest" });
        Assert.Equal(HttpStatusCode.Conflict, owned.StatusCode);
        Assert.Contains("notify-1", await owned.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await server.Http.PostAsJsonAsync("/streams/refunds/groups/notify/reset", new { offset = 2, force = true })).StatusCode);
        Assert.Equal([2L, 2L], (await log.Groups.DescribeAsync("refunds", "notify")).Select(s => s.Checkpoint!.Value));
        Assert.Equal(EventLogErrorReason.LeaseLost, (await Assert.ThrowsAsync<EventLogException>(() => log.Checkpoints.UpdateAsync("notify", "refunds", 1, 2, held))).Reason);

        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.PostAsJsonAsync("/streams/refunds/groups/notify/reset", new { dryRun = true })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.PostAsJsonAsync("/streams/refunds/groups/notify/reset", new { to = "earliest", shiftBy = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.PostAsJsonAsync("/streams/refunds/groups/notify/reset", new { time = "soon" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.PostAsJsonAsync("/streams/refunds/groups/nobody/reset", new { to = "latest" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/streams/no-stream/groups/notify")).StatusCode);

        HttpResponseMessage deleted = await server.Http.DeleteAsync("/streams/refunds/groups/notify");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/streams/refunds/groups/notify")).StatusCode);
    }

    [Fact]
    public async Task Dead_letters_are_listed_and_replayed_over_http()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "claims", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "claims.assess.deadletter" });
        await using (EventProducerClient producer = log.CreateProducer("claims.assess.deadletter"))
        {
            await producer.SendAsync(TestEvents.DeadLetter("claim-7", "claim.filed", "policy-1", "claims", 0, 4, "policy not found"));
        }

        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        JsonElement letters = await server.Http.GetFromJsonAsync<JsonElement>("/streams/claims/groups/assess/deadletters");
        Assert.Equal("policy not found", letters[0].GetProperty("error").GetString());

        HttpResponseMessage replay = await server.Http.PostAsJsonAsync("/streams/claims/groups/assess/deadletters/replay", new { id = "claim-7" });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.StartsWith("claims/0/", (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results")[0].GetProperty("to").GetString(), StringComparison.Ordinal);
        Assert.Equal(["claim-7"], (await TestEvents.ReadAllAsync(log, "claims")).Select(e => e.Event.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.PostAsJsonAsync("/streams/claims/groups/assess/deadletters/replay", new { to = "nowhere" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.GetAsync("/streams/bad%20name/groups/assess/deadletters")).StatusCode);
    }
}
