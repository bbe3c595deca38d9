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

        ReadOnlyMemory<byte>[] bodies = EventCodec.EncodeBodies(events, 1234, out _);

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

        EventLogException ex = Assert.Throws<EventLogException>(() => EventCodec.EncodeBodies(events, 1, out _));

        Assert.Contains("'bad'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_attribute_and_extension_type_round_trips_and_repeated_texts_follow_each_event()
    {
        var shared = new TextCache();
        var events = new List<LogEvent>();
        for (int i = 0; i < 6; i++)
        {
            // Sources, types and the rest change every other event or every third: a cached text must never outlive its value.
            var e = new LogEvent($"id-{i}", i % 2 == 0 ? "/a" : "urn:b", i % 3 == 0 ? "t.x" : "t.y")
            {
                PartitionKey = i == 4 ? null : $"k{i}",
                Time = i == 1 ? null : new DateTimeOffset(2026, 12, 8, 1, 2, 3, TimeSpan.Zero).AddTicks(i * 1234567),
                Subject = i % 2 == 0 ? "s1" : null,
                DataContentType = i == 5 ? null : i % 3 == 0 ? "application/json" : "text/plain",
                DataSchema = i % 2 == 1 ? "https://example.com/s.json" : null,
                Data = i == 3 ? null : new BinaryData(new byte[i * 10]),
            };
            if (i == 2)
            {
                e.Extensions["flag"] = true;
                e.Extensions["count"] = 42;
                e.Extensions["blob"] = new byte[] { 1, 2, 3 };
                e.Extensions["where"] = new Uri("https://example.com/x");
                e.Extensions["rel"] = new Uri("../x", UriKind.Relative);
                e.Extensions["when"] = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
                e.Extensions["note"] = "häj";
            }

            events.Add(e);
        }

        foreach (TextCache? texts in new[] { null, shared })
        {
            foreach (LogEvent original in events)
            {
                (long timestamp, LogEvent back) = EventCodec.DecodeBody(EventCodec.EncodeBody(original, 99), texts);

                Assert.Equal(99, timestamp);
                Assert.Equal((original.Id, original.Source, original.Type, original.PartitionKey, original.Time, original.Subject, original.DataContentType, original.DataSchema), (back.Id, back.Source, back.Type, back.PartitionKey, back.Time, back.Subject, back.DataContentType, back.DataSchema));
                Assert.Equal(original.Data?.ToArray(), back.Data?.ToArray());
                Assert.Equal(original.Extensions.OrderBy(x => x.Key, StringComparer.Ordinal), back.Extensions.OrderBy(x => x.Key, StringComparer.Ordinal));
            }
        }
    }
}
