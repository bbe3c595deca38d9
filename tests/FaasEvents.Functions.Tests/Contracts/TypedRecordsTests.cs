using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Schemas;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FaasEvents.Functions.Tests.Contracts;

/// <summary>
/// Records generated from a schema version compile, are nullable-correct and carry their version; a consumer built on
/// version N reads a stream holding events of versions before and after N as the compatibility mode promises.
/// </summary>
public sealed class TypedRecordsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string V1 = """
        {"type": "object", "additionalProperties": false, "required": ["orderId", "amount", "customer"],
         "properties": {"orderId": {"type": "string"}, "amount": {"type": "number"},
           "customer": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "tier": {"enum": ["gold", "silver"]}}},
           "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}}}}
        """;

    // backward from V1: an optional field in the closed model
    private const string V2 = """
        {"type": "object", "additionalProperties": false, "required": ["orderId", "amount", "customer"],
         "properties": {"orderId": {"type": "string"}, "amount": {"type": "number"},
           "customer": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "tier": {"enum": ["gold", "silver"]}}},
           "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
           "note": {"type": ["string", "null"]}}}
        """;

    // forward from V2: the optional lines removed from the closed model (a consumer on V2 reads V3 events)
    private const string V3 = """
        {"type": "object", "additionalProperties": false, "required": ["orderId", "amount", "customer"],
         "properties": {"orderId": {"type": "string"}, "amount": {"type": "number"},
           "customer": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "tier": {"enum": ["gold", "silver"]}}},
           "note": {"type": ["string", "null"]}}}
        """;

    [Fact]
    public async Task A_consumer_on_version_2_reads_events_of_versions_1_2_and_3_as_the_modes_promise()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "shop.orders", Partitions = 1 });
        await using EventProducerClient producer = log.CreateProducer("shop.orders", new EventProducerOptions { SchemaRefreshInterval = TimeSpan.Zero });
        await log.Schemas.RegisterAsync("shop.orders", V1);
        await producer.SendAsync(Json("e1", """{"orderId": "o1", "amount": 10.5, "customer": {"id": "c1", "tier": "gold"}, "lines": [{"sku": "a", "qty": 2}]}"""));
        StreamSchema v2 = await log.Schemas.RegisterAsync("shop.orders", V2); // backward (the default)
        await producer.SendAsync(Json("e2", """{"orderId": "o2", "amount": 3, "customer": {"id": "c2"}, "note": "ring twice"}"""));
        await log.Schemas.SetCompatibilityAsync("shop.orders", CompatibilityMode.Forward);
        Assert.Equal(3, (await log.Schemas.RegisterAsync("shop.orders", V3)).Version);
        await producer.SendAsync(Json("e3", """{"orderId": "o3", "amount": 7, "customer": {"id": "c3", "tier": "silver"}, "note": null}"""));

        string code = CSharpRecordGenerator.Generate(v2, "Shop.Contracts");
        Assembly records = Compile(code);
        Type order = records.GetType("Shop.Contracts.ShopOrders")!;
        Assert.Equal(2, order.GetField("SchemaVersion")!.GetValue(null));
        Assert.Equal("faas:schemas/shop.orders/2", order.GetField("DataSchema")!.GetValue(null));

        var nullability = new NullabilityInfoContext();
        Assert.Equal(NullabilityState.NotNull, nullability.Create(order.GetProperty("OrderId")!).ReadState);
        Assert.Equal(NullabilityState.Nullable, nullability.Create(order.GetProperty("Note")!).ReadState);
        Assert.Equal(NullabilityState.Nullable, nullability.Create(order.GetProperty("Lines")!).ReadState);
        Assert.Equal(typeof(decimal), order.GetProperty("Amount")!.PropertyType);
        Assert.Contains(order.GetProperty("OrderId")!.GetCustomAttributes(), a => a.GetType().Name == "RequiredMemberAttribute");
        Assert.Null(order.GetProperty("AdditionalProperties")); // a closed model has no extension data

        var read = new List<object>();
        await foreach (StoredEvent e in log.ReadPartitionAsync("shop.orders", 0))
        {
            read.Add(JsonSerializer.Deserialize(e.Event.Data!.ToMemory().Span, order)!);
        }

        Assert.Equal(3, read.Count);
        object Prop(object o, string name) => o.GetType().GetProperty(name)!.GetValue(o)!;
        Assert.Equal(["o1", "o2", "o3"], read.Select(o => (string)Prop(o, "OrderId")));
        Assert.Equal([10.5m, 3m, 7m], read.Select(o => (decimal)Prop(o, "Amount")));
        Assert.Equal("gold", Prop(Prop(read[0], "Customer"), "Tier"));
        Assert.Null(order.GetProperty("Note")!.GetValue(read[0])); // written before the field existed
        Assert.Equal("ring twice", Prop(read[1], "Note"));
        Assert.Null(order.GetProperty("Lines")!.GetValue(read[2])); // written after the field was removed
        Assert.Equal(2L, Prop(((System.Collections.IList)Prop(read[0], "Lines"))[0]!, "Qty"));

        // The old consumer (version 1's records) and the newest (version 3's) read the same mixed stream too.
        foreach ((StreamSchema version, string absent) in new[] { ((await log.Schemas.GetAsync("shop.orders", 1))!, "Note"), ((await log.Schemas.GetAsync("shop.orders", 3))!, "Lines") })
        {
            Type consumer = Compile(CSharpRecordGenerator.Generate(version, $"V{version.Version}")).GetType($"V{version.Version}.ShopOrders")!;
            Assert.Null(consumer.GetProperty(absent)); // a field that version does not have
            var each = new List<string>();
            await foreach (StoredEvent e in log.ReadPartitionAsync("shop.orders", 0))
            {
                object o = JsonSerializer.Deserialize(e.Event.Data!.ToMemory().Span, consumer)!;
                each.Add($"{consumer.GetProperty("OrderId")!.GetValue(o)}:{consumer.GetProperty("Amount")!.GetValue(o)}");
            }

            Assert.Equal(["o1:10.5", "o2:3", "o3:7"], each);
        }
    }

    [Fact]
    public void Open_models_keep_undeclared_properties_and_names_become_csharp_names()
    {
        string code = CSharpRecordGenerator.Generate(new StreamSchema("sensor-readings", 4, """{"type": "object", "properties": {"device_id": {"type": "string"}, "2fa": {"type": "boolean"}, "value": {}}}""", DateTimeOffset.UtcNow), "T");
        Type reading = Compile(code).GetType("T.SensorReadings")!;
        Assert.NotNull(reading.GetProperty("DeviceId"));
        Assert.NotNull(reading.GetProperty("_2fa"));
        Assert.Equal(typeof(JsonElement?), reading.GetProperty("Value")!.PropertyType);
        object parsed = JsonSerializer.Deserialize("""{"device_id": "d", "extra": 1}""", reading)!;
        Assert.Equal("d", reading.GetProperty("DeviceId")!.GetValue(parsed));
        Assert.True(((System.Collections.IDictionary)reading.GetProperty("AdditionalProperties")!.GetValue(parsed)!).Contains("extra"));
        Assert.Contains("not an object schema", Assert.Throws<EventLogException>(() => CSharpRecordGenerator.Generate(new StreamSchema("s", 1, """{"type": "string"}""", DateTimeOffset.UtcNow), "T")).Message, StringComparison.Ordinal);
    }

    private static LogEvent Json(string id, string data) => new(id, "/tests", "order") { DataContentType = "application/json", Data = BinaryData.FromString(data) };

    private static Assembly Compile(string code)
    {
        string[] trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Records" + Guid.NewGuid().ToString("N"),
            [CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest))],
            trusted.Select(p => MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var dll = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult emitted = compilation.Emit(dll);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning)) + "\n" + code);
        Assert.Empty(emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning)); // the generated code is warning-free
        dll.Position = 0;
        return new AssemblyLoadContext(null, isCollectible: true).LoadFromStream(dll);
    }
}
