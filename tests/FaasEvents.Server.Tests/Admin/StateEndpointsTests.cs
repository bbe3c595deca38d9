using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Server.Tests.Admin;

/// <summary>
/// What the console's functions page reads: a materializer's table by key and by prefix (paged) from its committed
/// state, and each group's kind and counts in the group listing and description.
/// </summary>
public class StateEndpointsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_materializer_s_table_is_read_by_key_and_by_prefix_page_by_page()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "customers", Partitions = 1, Kind = StreamKind.Entities });
        PartitionLease lease = (await log.CreateLeaseClient("m-1").TryAcquireAsync("customer-table", "customers", 0, TimeSpan.FromSeconds(15)))!;
        PartitionStateStore store = log.CreateStateStore("customer-table", "customers", 0);
        await store.CommitAsync(
            new Dictionary<string, BinaryData?>
            {
                ["c-1"] = BinaryData.FromString("""{"name":"Ada"}"""),
                ["c-2"] = BinaryData.FromString("""{"name":"Grace"}"""),
                ["c-3"] = BinaryData.FromString("""{"name":"Linus"}"""),
                ["v-1"] = BinaryData.FromString("""{"name":"Vendor"}"""),
            },
            4,
            lease,
            counts: new WorkCounts(4, 0, 0, 0, 1));
        await store.CommitAsync(new Dictionary<string, BinaryData?> { ["c-2"] = null }, 5, lease, counts: new WorkCounts(1, 0, 0, 0, 0)); // a tombstone
        await log.Checkpoints.UpdateAsync("mailer", "customers", 0, 5, null, null, new WorkCounts(5, 2, 2, 0, 1), null);
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);

        JsonElement one = await server.Http.GetFromJsonAsync<JsonElement>("/streams/customers/groups/customer-table/state?key=c-1");
        Assert.Equal("Ada", one.GetProperty("value").GetProperty("name").GetString());
        Assert.Equal(5, one.GetProperty("nextOffset").GetInt64());
        HttpResponseMessage deleted = await server.Http.GetAsync("/streams/customers/groups/customer-table/state?key=c-2");
        Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
        Assert.Contains("deleted by a tombstone", await deleted.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        JsonElement first = await server.Http.GetFromJsonAsync<JsonElement>("/streams/customers/groups/customer-table/state?prefix=c-&limit=1");
        Assert.Equal("c-1", Assert.Single(first.GetProperty("items").EnumerateArray()).GetProperty("key").GetString());
        string next = first.GetProperty("next").GetString()!;
        JsonElement second = await server.Http.GetFromJsonAsync<JsonElement>($"/streams/customers/groups/customer-table/state?prefix=c-&limit=10&after={Uri.EscapeDataString(next)}");
        Assert.Equal(["c-3"], second.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);

        HttpResponseMessage handler = await server.Http.GetAsync("/streams/customers/groups/mailer/state?prefix=c");
        Assert.Equal(HttpStatusCode.NotFound, handler.StatusCode);
        Assert.Contains("no committed state", await handler.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/streams/nowhere/groups/customer-table/state")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.GetAsync("/streams/customers/groups/customer-table/state?limit=0")).StatusCode);

        // The group listing says which group is a materializer and what each did.
        JsonElement groups = await server.Http.GetFromJsonAsync<JsonElement>("/groups?stream=customers");
        JsonElement table = groups.EnumerateArray().Single(g => g.GetProperty("group").GetString() == "customer-table");
        JsonElement mailer = groups.EnumerateArray().Single(g => g.GetProperty("group").GetString() == "mailer");
        Assert.Equal(("materializer", "handler"), (table.GetProperty("kind").GetString(), mailer.GetProperty("kind").GetString()));
        Assert.Equal(5, table.GetProperty("counts").GetProperty("handled").GetInt64());
        Assert.Equal(2, mailer.GetProperty("counts").GetProperty("retries").GetInt64());
        JsonElement described = await server.Http.GetFromJsonAsync<JsonElement>("/streams/customers/groups/mailer");
        Assert.Equal(2, described[0].GetProperty("counts").GetProperty("failures").GetInt64());
    }
}
