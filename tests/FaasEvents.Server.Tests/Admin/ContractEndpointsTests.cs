using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Server.Tests.Admin;

/// <summary>What the console's produce form uses: a stream's latest schema, and an event checked against it as an append would be, without appending it.</summary>
public class ContractEndpointsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task An_event_is_checked_against_the_stream_s_contract_without_being_appended()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "payments", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "free-form", Partitions = 1 });
        await log.Schemas.RegisterAsync("payments", """{ "type": "object", "required": ["amount"], "properties": { "amount": { "type": "number", "minimum": 0 } } }""");
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);

        JsonElement schema = await server.Http.GetFromJsonAsync<JsonElement>("/streams/payments/schema");
        Assert.Equal((1, "json"), (schema.GetProperty("version").GetInt32(), schema.GetProperty("format").GetString()));
        Assert.Contains("minimum", schema.GetProperty("schema").GetString(), StringComparison.Ordinal);
        HttpResponseMessage none = await server.Http.GetAsync("/streams/free-form/schema");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Contains("faas schema register free-form", await none.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        JsonElement bad = await ValidateAsync(server, "payments", """{"amount":-1}""");
        Assert.False(bad.GetProperty("valid").GetBoolean());
        Assert.Equal(1, bad.GetProperty("version").GetInt32());
        Assert.Contains("amount", Assert.Single(bad.GetProperty("errors").EnumerateArray()).GetString(), StringComparison.Ordinal);
        Assert.True((await ValidateAsync(server, "payments", """{"amount":3}""")).GetProperty("valid").GetBoolean());
        JsonElement free = await ValidateAsync(server, "free-form", """{"anything":true}""");
        Assert.True(free.GetProperty("valid").GetBoolean());
        Assert.Equal(JsonValueKind.Null, free.GetProperty("version").ValueKind);
        Assert.Equal(0, (await log.GetPartitionsAsync("payments"))[0].EndOffset); // nothing was appended

        HttpResponseMessage malformed = await server.Http.PostAsync("/streams/payments/events/validate", new StringContent("""{"specversion":"1.0"}""", Encoding.UTF8, "application/cloudevents+json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/streams/nowhere/schema")).StatusCode);
    }

    private static async Task<JsonElement> ValidateAsync(ServerHarness server, string stream, string data)
    {
        string e = $$"""{"specversion":"1.0","id":"v-1","source":"/test","type":"com.example.payment","datacontenttype":"application/json","data":{{data}}}""";
        HttpResponseMessage response = await server.Http.PostAsync($"/streams/{stream}/events/validate", new StringContent(e, Encoding.UTF8, "application/cloudevents+json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
