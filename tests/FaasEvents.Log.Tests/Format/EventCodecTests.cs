using FaasEvents.Log.Events;
using FaasEvents.Log.Format;

namespace FaasEvents.Log.Tests.Format;

public class EventCodecTests
{
    [Fact]
    public void A_calls_events_encoded_into_one_array_are_byte_for_byte_the_single_encodings()
    {
        var keyed = new LogEvent("1", "/src", "t.one") { PartitionKey = "k", Data = new BinaryData("hello"u8.ToArray()), Subject = "s", Time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero) };
        var extended = new LogEvent("2", "urn:x", "t.two") { DataContentType = "application/json", DataSchema = "https://example.com/s.json" };
        extended.Extensions["count"] = 42;
        extended.Extensions["traceparent"] = "00-abc";
        var tombstone = new LogEvent("3", "/src", "t.three") { PartitionKey = "gone" };
        LogEvent[] events = [keyed, extended, tombstone];

        ReadOnlyMemory<byte>[] bodies = EventCodec.EncodeBodies(events, 1234);

        Assert.Equal(events.Length, bodies.Length);
        for (int i = 0; i < events.Length; i++)
        {
            Assert.Equal(EventCodec.EncodeBody(events[i], 1234), bodies[i].ToArray());
            Assert.Equal(events[i].Id, EventCodec.DecodeBody(bodies[i].Span).Event.Id);
        }
    }

    [Fact]
    public void An_unencodable_event_in_a_call_is_named_and_nothing_is_returned()
    {
        LogEvent[] events = [new("ok", "/src", "t"), new("bad", "/src", "t") { Subject = "\ud800" }, new("after", "/src", "t")];

        EventLogException ex = Assert.Throws<EventLogException>(() => EventCodec.EncodeBodies(events, 1));

        Assert.Contains("'bad'", ex.Message, StringComparison.Ordinal);
    }
}
