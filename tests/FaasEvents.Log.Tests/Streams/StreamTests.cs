using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Streams;

public class StreamTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Create_describe_list_delete()
    {
        EventLogClient log = azurite.CreateClient();
        CancellationToken ct = TestEvents.Timeout();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = 4, Retention = RetentionPolicy.Parse("7d") }, ct);
        await log.CreateStreamAsync(new StreamDefinition { Name = "books", Partitions = 2, Kind = StreamKind.Entities }, ct);

        StreamDefinition orders = await log.GetStreamAsync("orders", ct);
        Assert.Equal((4, StreamKind.Events, TimeSpan.FromDays(7)), (orders.Partitions, orders.Kind, orders.Retention.MaxAge));
        Assert.NotEqual(default, orders.CreatedAt);
        List<string> names = await log.ListStreamsAsync(ct).Select(s => s.Name).ToListAsync(ct);
        Assert.Equal(["books", "orders"], names.Order());

        await log.DeleteStreamAsync("orders", ct);
        Assert.Null(await log.TryGetStreamAsync("orders", ct));
        Assert.Equal(["books"], await log.ListStreamsAsync(ct).Select(s => s.Name).ToListAsync(ct));
    }

    [Fact]
    public async Task Duplicate_and_missing_streams_are_clear_errors()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "dup" });
        EventLogException dup = await Assert.ThrowsAsync<EventLogException>(() => log.CreateStreamAsync(new StreamDefinition { Name = "dup" }));
        Assert.Equal(EventLogErrorReason.StreamAlreadyExists, dup.Reason);
        EventLogException missing = await Assert.ThrowsAsync<EventLogException>(() => log.GetStreamAsync("nope"));
        Assert.Equal(EventLogErrorReason.StreamNotFound, missing.Reason);
        Assert.Contains("'nope'", missing.Message, StringComparison.Ordinal);
        EventLogException send = await Assert.ThrowsAsync<EventLogException>(() => log.CreateProducer("nope").SendAsync(TestEvents.Json("1")));
        Assert.Equal(EventLogErrorReason.StreamNotFound, send.Reason);
    }

    [Fact]
    public async Task Recreated_stream_starts_empty_without_old_checkpoints()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "again" });
        await using (EventProducerClient p = log.CreateProducer("again"))
        {
            await p.SendBatchAsync(Enumerable.Range(0, 10).Select(i => TestEvents.Json($"e{i}")));
        }

        await log.Checkpoints.UpdateAsync("g", "again", 0, 10);
        await log.DeleteStreamAsync("again");
        await log.CreateStreamAsync(new StreamDefinition { Name = "again" });

        Assert.Empty(await TestEvents.ReadAllAsync(log, "again"));
        LagReport lag = await log.GetLagAsync("again", "g");
        Assert.Equal((0L, (long?)null), (lag.TotalLag, lag.Partitions[0].Checkpoint));
    }

    [Fact]
    public async Task Oversize_event_writes_nothing()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "big" });
        await using EventProducerClient producer = log.CreateProducer("big");
        var events = new[] { TestEvents.Json("ok"), new LogEvent("huge", "/s", "t") { Data = new BinaryData(new byte[LogEvent.MaxEncodedSize + 1]) } };

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => producer.SendBatchAsync(events));

        Assert.Equal(EventLogErrorReason.EventTooLarge, ex.Reason);
        Assert.Empty(await TestEvents.ReadAllAsync(log, "big")); // lost: nothing, and nothing half-written
    }
}
