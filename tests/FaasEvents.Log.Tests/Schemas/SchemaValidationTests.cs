using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Schemas;

/// <summary>
/// The producer checks events against its stream's latest schema: a valid one is written carrying its version as
/// <c>dataschema</c>; an invalid one is refused naming each path and rule, and nothing of its call is written.
/// </summary>
public class SchemaValidationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string Orders = """{"type": "object", "properties": {"orderId": {"type": "string"}, "amount": {"type": "number", "minimum": 0}}, "required": ["orderId", "amount"]}""";

    [Fact]
    public async Task Valid_events_carry_their_schema_version_and_an_invalid_one_writes_nothing_of_its_call()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = 2 });
        await log.Schemas.RegisterAsync("orders", Orders);
        await using EventProducerClient producer = log.CreateProducer("orders");

        EventPosition ok = await producer.SendAsync(Order("o1", """{"orderId": "o1", "amount": 10}"""));
        StoredEvent stored = await log.ReadPartitionAsync("orders", ok.Partition, new ReadOptions { From = StartPosition.FromOffset(ok.Offset) }).FirstAsync();
        Assert.Equal("faas:schemas/orders/1", stored.Event.DataSchema);

        EventLogException one = await Assert.ThrowsAsync<EventLogException>(() => producer.SendAsync(Order("o2", """{"orderId": "o2", "amount": -1}""")));
        Assert.Equal(EventLogErrorReason.SchemaViolation, one.Reason);
        Assert.StartsWith("Event 'o2' does not match schema version 1 of 'orders'; nothing of it was written", one.Message, StringComparison.Ordinal);
        Assert.Contains("$.amount:", one.Message, StringComparison.Ordinal);
        Assert.Contains("(minimum)", one.Message, StringComparison.Ordinal);

        long before = await EndAsync(log);
        EventLogException batch = await Assert.ThrowsAsync<EventLogException>(() => producer.SendBatchAsync([
            Order("o3", """{"orderId": "o3", "amount": 3}"""),
            Order("o4", """{"orderId": "o4"}"""),
            Order("o5", """{"orderId": "o5", "amount": 5}""")]));
        Assert.Contains("event 1 ('o4'): $: ", batch.Message, StringComparison.Ordinal);
        Assert.Contains("amount", batch.Message, StringComparison.Ordinal);
        Assert.Contains("(required)", batch.Message, StringComparison.Ordinal);
        Assert.Equal(before, await EndAsync(log)); // neither o3 nor o5

        var text = new LogEvent("o6", "/t", "order") { DataContentType = "text/plain", Data = BinaryData.FromString("hello") };
        Assert.Contains("data is text/plain", (await Assert.ThrowsAsync<EventLogException>(() => producer.SendAsync(text))).Message, StringComparison.Ordinal);
        await producer.SendAsync(new LogEvent("gone", "/t", "order.deleted") { PartitionKey = "o1" }); // no data: nothing to check
        Assert.Equal(before + 1, await EndAsync(log));
    }

    [Fact]
    public async Task A_running_producer_starts_checking_once_a_schema_is_registered()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "late" });
        await using EventProducerClient producer = log.CreateProducer("late", new EventProducerOptions { SchemaRefreshInterval = TimeSpan.Zero });
        await producer.SendAsync(Order("a", """{"anything": true}""")); // no schema yet: anything JSON goes
        await log.Schemas.RegisterAsync("late", Orders);
        Assert.Equal(EventLogErrorReason.SchemaViolation, (await Assert.ThrowsAsync<EventLogException>(() => producer.SendAsync(Order("b", """{"anything": true}""")))).Reason);
        await producer.SendAsync(Order("c", """{"orderId": "c", "amount": 1}"""));
    }

    private static LogEvent Order(string id, string json) => new(id, "/t", "order") { PartitionKey = id, DataContentType = "application/json", Data = BinaryData.FromString(json) };

    private static async Task<long> EndAsync(EventLogClient log) => (await log.GetPartitionsAsync("orders")).Sum(p => p.EndOffset);
}
