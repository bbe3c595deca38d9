using FaasEvents.Log.Schemas;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Schemas;

/// <summary>
/// Schemas registered on a stream: versions in order, the same schema again is the same version, an incompatible one is
/// refused naming the field and the rule with nothing written, transitive modes check every version, and a stream
/// created again starts without the old stream's contract.
/// </summary>
public class SchemaRegistryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string V1 = """{"type": "object", "properties": {"orderId": {"type": "string"}, "amount": {"type": "number"}}, "required": ["orderId", "amount"]}""";
    private const string V2 = """{"type": "object", "properties": {"orderId": {"type": "string"}, "amount": {"type": "number"}, "note": {}}, "required": ["orderId", "amount"]}""";
    private const string AddsRequired = """{"type": "object", "properties": {"orderId": {"type": "string"}, "amount": {"type": "number"}, "currency": {"type": "string"}}, "required": ["orderId", "amount", "currency"]}""";

    [Fact]
    public async Task Versions_are_registered_in_order_and_an_incompatible_one_is_refused_with_its_reasons()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders" });
        Assert.Null(await log.Schemas.GetAsync("orders"));
        Assert.Equal(CompatibilityMode.Backward, await log.Schemas.GetCompatibilityAsync("orders"));

        StreamSchema v1 = await log.Schemas.RegisterAsync("orders", V1);
        Assert.Equal((1, new Uri("faas:schemas/orders/1")), (v1.Version, v1.DataSchema));
        Assert.Equal(1, (await log.Schemas.RegisterAsync("orders", V1.Replace(" ", "", StringComparison.Ordinal))).Version); // the same schema (formatting aside) is the same version
        Assert.Equal(2, (await log.Schemas.RegisterAsync("orders", V2)).Version);

        SchemaCheck check = await log.Schemas.CheckAsync("orders", AddsRequired);
        Assert.False(check.Compatible);
        Assert.Equal([2], check.Against);
        EventLogException refused = await Assert.ThrowsAsync<EventLogException>(() => log.Schemas.RegisterAsync("orders", AddsRequired));
        Assert.Equal(EventLogErrorReason.IncompatibleSchema, refused.Reason);
        Assert.StartsWith("Schema not registered for 'orders': it breaks backward compatibility with version 2 (1 problem; change the schema, or set another mode: faas schema compatibility orders MODE)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("added required field `currency`; old events lack it; backward compatibility requires old events to stay readable by new consumers", refused.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2], (await log.Schemas.ListAsync("orders")).Select(v => v.Version)); // nothing written

        await log.Schemas.SetCompatibilityAsync("orders", CompatibilityMode.None);
        Assert.Equal(3, (await log.Schemas.RegisterAsync("orders", AddsRequired)).Version);
        Assert.Equal(V2.Replace(" ", "", StringComparison.Ordinal), (await log.Schemas.GetAsync("orders", 2))!.Schema);
        Assert.Contains("has no schema version 9; it has versions 1 to 3", (await Assert.ThrowsAsync<EventLogException>(() => log.Schemas.GetAsync("orders", 9))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transitive_mode_checks_every_version_not_only_the_latest()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "readings" });
        await log.Schemas.RegisterAsync("readings", """{"type": "object", "properties": {"value": {"type": "string"}}}""");
        await log.Schemas.SetCompatibilityAsync("readings", CompatibilityMode.None);
        await log.Schemas.RegisterAsync("readings", """{"type": "object", "properties": {"value": {"type": "integer"}}}""");
        string v3 = """{"type": "object", "properties": {"value": {"type": "integer", "description": "in millivolts"}}}""";

        await log.Schemas.SetCompatibilityAsync("readings", CompatibilityMode.Backward);
        Assert.True((await log.Schemas.CheckAsync("readings", v3)).Compatible); // the latest only
        await log.Schemas.SetCompatibilityAsync("readings", CompatibilityMode.BackwardTransitive);
        SchemaCheck transitive = await log.Schemas.CheckAsync("readings", v3);
        Assert.Equal([1, 2], transitive.Against);
        Assert.Equal("against version 1: `$.value`: changed type from string to integer: old events may be string; backward compatibility requires old events to stay readable by new consumers", Assert.Single(transitive.Problems));
    }

    [Fact]
    public async Task Bad_input_is_refused_naming_the_fix()
    {
        EventLogClient log = azurite.CreateClient();
        Assert.Equal(EventLogErrorReason.StreamNotFound, (await Assert.ThrowsAsync<EventLogException>(() => log.Schemas.RegisterAsync("ghost", V1))).Reason);
        await log.CreateStreamAsync(new StreamDefinition { Name = "typed" });
        EventLogException invalid = await Assert.ThrowsAsync<EventLogException>(() => log.Schemas.RegisterAsync("typed", """{"type": "obj"}"""));
        Assert.Equal(EventLogErrorReason.InvalidSchema, invalid.Reason);
        Assert.Contains("$.type: 'obj' is not a JSON Schema type", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("use one of: backward, backward_transitive, forward, forward_transitive, full, full_transitive, none", Assert.Throws<EventLogException>(() => StreamSchemasClient.ParseMode("sideways")).Message, StringComparison.Ordinal);
        Assert.Equal(CompatibilityMode.FullTransitive, StreamSchemasClient.ParseMode("FULL_TRANSITIVE"));
        Assert.Contains("has no schema; register one: faas schema register typed FILE", (await Assert.ThrowsAsync<EventLogException>(() => log.Schemas.GetAsync("typed", 1))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_created_again_starts_without_the_old_contract()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "again" });
        await log.Schemas.RegisterAsync("again", V1);
        await log.Schemas.SetCompatibilityAsync("again", CompatibilityMode.Full);
        await log.DeleteStreamAsync("again");
        await log.CreateStreamAsync(new StreamDefinition { Name = "again" });

        Assert.Empty(await log.Schemas.ListAsync("again"));
        Assert.Equal(CompatibilityMode.Backward, await log.Schemas.GetCompatibilityAsync("again"));
        Assert.Equal(1, (await log.Schemas.RegisterAsync("again", AddsRequired)).Version);
    }
}
