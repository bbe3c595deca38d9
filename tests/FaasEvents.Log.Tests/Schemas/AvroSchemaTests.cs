using Avro;
using Avro.Generic;
using Avro.IO;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Schemas;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Schemas;

/// <summary>
/// Avro schemas on a stream: the Avro resolution rules decide compatibility in every mode, a stream keeps one schema
/// language, and producers accept only binary Avro of the latest version.
/// </summary>
public class AvroSchemaTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string V1 = """{"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "string"}, {"name": "qty", "type": "int"}, {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "PAID"]}}]}""";

    public static TheoryData<string, string, bool, bool, string> Rules() => new()
    {
        { "add a field with a default", Fields("""{"name": "note", "type": "string", "default": ""}"""), true, true, "" },
        { "add a field without a default", Fields("""{"name": "note", "type": "string"}"""), false, true, "added field `note` without a default" },
        { "remove a field without a default", """{"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "string"}, {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "PAID"]}}]}""", true, false, "removed field `qty`" },
        { "promote int to long", V1.Replace("\"qty\", \"type\": \"int\"", "\"qty\", \"type\": \"long\"", StringComparison.Ordinal), true, false, "changed type from int to long" },
        { "change string to int", V1.Replace("\"id\", \"type\": \"string\"", "\"id\", \"type\": \"int\"", StringComparison.Ordinal), false, false, "`$.id`: changed type from string to int" },
        { "add an enum symbol", V1.Replace("[\"NEW\", \"PAID\"]", "[\"NEW\", \"PAID\", \"SHIPPED\"]", StringComparison.Ordinal), true, false, "added enum symbol(s) SHIPPED" },
        { "make a field nullable", V1.Replace("\"id\", \"type\": \"string\"", "\"id\", \"type\": [\"null\", \"string\"]", StringComparison.Ordinal), true, false, "added null to the types" },
        { "rename the record", V1.Replace("\"name\": \"Order\"", "\"name\": \"Purchase\"", StringComparison.Ordinal), false, false, "changed type from record shop.Order to record shop.Purchase" },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Each_avro_rule_is_judged_in_every_mode(string rule, string newSchema, bool backward, bool forward, string phrase)
    {
        Schema old = AvroCompatibility.Parse(V1), now = AvroCompatibility.Parse(newSchema);
        var refusals = new List<string>();
        foreach ((CompatibilityMode mode, bool compatible) in new[] { (CompatibilityMode.Backward, backward), (CompatibilityMode.Forward, forward), (CompatibilityMode.Full, backward && forward), (CompatibilityMode.FullTransitive, backward && forward) })
        {
            IReadOnlyList<string> found = AvroCompatibility.Check(now, old, mode);
            Assert.True(compatible == (found.Count == 0), $"{rule} in {mode}: {string.Join(" | ", found)}");
            refusals.AddRange(found);
        }

        if (!backward || !forward)
        {
            Assert.Contains(phrase, string.Join(" | ", refusals), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_avro_stream_registers_versions_by_avro_rules_and_producers_send_binary_avro_only()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "avro-orders", Partitions = 1 });
        StreamSchema v1 = await log.Schemas.RegisterAsync("avro-orders", V1);
        Assert.Equal(SchemaFormat.Avro, v1.Format);
        Assert.Equal(2, (await log.Schemas.RegisterAsync("avro-orders", Fields("""{"name": "note", "type": "string", "default": ""}"""))).Version);
        Assert.Contains("added field `extra` without a default", (await Assert.ThrowsAsync<EventLogException>(() => log.Schemas.RegisterAsync("avro-orders", Fields("""{"name": "note", "type": "string", "default": ""}, {"name": "extra", "type": "int"}""")))).Message, StringComparison.Ordinal);
        Assert.Contains("changed the schema language from Avro to JSON Schema", (await Assert.ThrowsAsync<EventLogException>(() => log.Schemas.RegisterAsync("avro-orders", """{"type": "object"}"""))).Message, StringComparison.Ordinal);

        await using EventProducerClient producer = log.CreateProducer("avro-orders");
        Schema v2 = AvroCompatibility.Parse((await log.Schemas.GetAsync("avro-orders"))!.Schema);
        EventPosition ok = await producer.SendAsync(Avro("o1", Encode(v2, "o1", 3)));
        Assert.Equal("faas:schemas/avro-orders/2", (await log.ReadPartitionAsync("avro-orders", 0).FirstAsync()).Event.DataSchema);
        Assert.Equal(0, ok.Offset);

        Assert.Contains("carry binary Avro data", (await Assert.ThrowsAsync<EventLogException>(() => producer.SendAsync(new LogEvent("j", "/t", "order") { DataContentType = "application/json", Data = BinaryData.FromString("{}") }))).Message, StringComparison.Ordinal);
        byte[] whole = Encode(v2, "o2", 4);
        Assert.Contains("is not binary Avro of schema version 2", (await Assert.ThrowsAsync<EventLogException>(() => producer.SendAsync(Avro("o2", whole[..^2])))).Message, StringComparison.Ordinal);
        Assert.Contains("byte(s) after the Avro value", (await Assert.ThrowsAsync<EventLogException>(() => producer.SendAsync(Avro("o3", [.. whole, 0, 0])))).Message, StringComparison.Ordinal);
        Assert.Equal(1, (await log.GetPartitionsAsync("avro-orders"))[0].EndOffset);
    }

    private static string Fields(string extra) => V1[..V1.LastIndexOf(']')] + ", " + extra + "]}";

    private static LogEvent Avro(string id, byte[] data) => new(id, "/t", "order") { DataContentType = "application/avro", Data = new BinaryData(data) };

    private static byte[] Encode(Schema schema, string id, int qty)
    {
        var record = new GenericRecord((RecordSchema)schema);
        record.Add("id", id);
        record.Add("qty", qty);
        record.Add("state", new GenericEnum((EnumSchema)((RecordSchema)schema).Fields.First(f => f.Name == "state").Schema, "NEW"));
        record.Add("note", "");
        using var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(schema).Write(record, new BinaryEncoder(stream));
        return stream.ToArray();
    }
}
