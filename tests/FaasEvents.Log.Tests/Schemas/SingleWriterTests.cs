using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Schemas;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Schemas;

/// <summary>
/// A stream with an owner accepts appends only from its owner: others are refused naming the owner and the fix, with
/// nothing written; every event carries the identity it was appended as; ownership moves only by an explicit,
/// recorded transfer, and a transfer raced by another is refused rather than lost.
/// </summary>
public class SingleWriterTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Only_the_owner_appends_and_a_transfer_moves_the_right_with_its_history()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "payments", Partitions = 1 });
        var fast = new EventProducerOptions { SchemaRefreshInterval = TimeSpan.Zero };
        await using EventProducerClient service = log.CreateProducer("payments", new EventProducerOptions { SchemaRefreshInterval = TimeSpan.Zero, Identity = "payment-service" });
        await using EventProducerClient intruder = log.CreateProducer("payments", new EventProducerOptions { SchemaRefreshInterval = TimeSpan.Zero, Identity = "reporting" });
        await using EventProducerClient anonymous = log.CreateProducer("payments", fast);
        await intruder.SendAsync(Event("before")); // no owner yet: anyone appends

        await log.Schemas.SetOwnerAsync("payments", "payment-service", by: "ops");
        EventPosition written = await service.SendAsync(Event("p1"));
        StoredEvent stored = await log.ReadPartitionAsync("payments", 0, new ReadOptions { From = StartPosition.FromOffset(written.Offset) }).FirstAsync();
        Assert.Equal("payment-service", stored.Event.Extensions["faasproducer"]);

        EventLogException refused = await Assert.ThrowsAsync<EventLogException>(() => intruder.SendBatchAsync([Event("r1"), Event("r2")]));
        Assert.Equal(EventLogErrorReason.NotStreamOwner, refused.Reason);
        Assert.Equal("Stream 'payments' has a single writer, 'payment-service'; this producer is 'reporting'. Nothing was written. Append as 'payment-service', or transfer ownership: faas streams owner payments NEW-OWNER", refused.Message);
        Assert.Contains("anonymous (set EventProducerOptions.Identity or FAAS_IDENTITY; faas produce --as)", (await Assert.ThrowsAsync<EventLogException>(() => anonymous.SendAsync(Event("a1")))).Message, StringComparison.Ordinal);
        Assert.Equal(2, (await log.GetPartitionsAsync("payments"))[0].EndOffset); // "before" and p1 only

        StreamOwner? moved = await log.Schemas.SetOwnerAsync("payments", "reporting", by: "alice");
        Assert.Equal("reporting", moved!.Owner);
        Assert.Equal([(null, "payment-service", "ops"), ("payment-service", "reporting", "alice")], moved.History.Select(h => (h.From, h.To, h.By)));
        await intruder.SendAsync(Event("r3"));
        Assert.Equal(EventLogErrorReason.NotStreamOwner, (await Assert.ThrowsAsync<EventLogException>(() => service.SendAsync(Event("p2")))).Reason);

        await log.Schemas.SetOwnerAsync("payments", null, by: "alice");
        await anonymous.SendAsync(Event("a2"));
        Assert.Null(await log.Schemas.GetOwnerAsync("payments"));
        Assert.Contains("is not a producer identity", (await Assert.ThrowsAsync<EventLogException>(() => log.Schemas.SetOwnerAsync("payments", " padded ", by: "x"))).Message, StringComparison.Ordinal);
    }

    private static LogEvent Event(string id) => new(id, "/t", "payment") { DataContentType = "application/json", Data = BinaryData.FromString("{}") };
}
