using FaasEvents.Log.Events;
using FaasEvents.Log.Format;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace FaasEvents.Log.Tests.Format;

public class BatchFormatTests
{
    private static readonly Guid Producer = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    [Fact]
    public void Batch_round_trips_offsets_timestamps_and_events()
    {
        var e1 = new LogEvent("1", "/src", "t.one") { PartitionKey = "k", Data = new BinaryData("hello"u8.ToArray()), Subject = "s", Time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero) };
        var e2 = new LogEvent("2", "urn:x", "t.two") { Data = null, DataContentType = "application/json", DataSchema = "https://example.com/s.json" };
        e2.Extensions["traceparent"] = "00-abc";
        e2.Extensions["count"] = 42;
        e2.Extensions["flag"] = true;
        e2.Extensions["blob"] = new byte[] { 1, 2, 3 };
        e2.Extensions["when"] = new DateTimeOffset(2030, 5, 6, 7, 8, 9, TimeSpan.Zero);
        e2.Extensions["link"] = new Uri("https://example.com/x");
        EncodedRecord[] records = [new(1000, EventCodec.EncodeBody(e1, 1000)), new(2000, EventCodec.EncodeBody(e2, 2000))];

        byte[] buffer = new byte[BatchFormat.GetBatchLength(records)];
        int length = BatchFormat.Write(buffer, records, baseOffset: 500, Producer, producerSequence: 7, blockIndex: 3);

        Assert.Equal(buffer.Length, length);
        BatchHeader h = BatchHeader.Parse(buffer, out string? error);
        Assert.Null(error);
        Assert.Equal((500L, 2, 2, Producer, 7L, 1000L, 2000L), (h.BaseOffset, h.RecordCount, h.OffsetSpan, h.ProducerId, h.ProducerSequence, h.FirstTimestamp, h.MaxTimestamp));
        BatchFooter f = BatchFooter.Parse(buffer.AsSpan(length - BatchFormat.FooterSize), out error);
        Assert.Null(error);
        Assert.Equal((500L, 502L, length, 3), (f.BaseOffset, f.NextOffset, f.BatchLength, f.BlockIndex));
        Assert.True(BatchFormat.VerifyChecksum(buffer, out _, out _));

        var events = new List<StoredEvent>();
        BatchFormat.ReadRecords(buffer, h, events, partition: 4);
        Assert.Equal([500L, 501L], events.Select(e => e.Offset));
        Assert.All(events, e => Assert.Equal(4, e.Partition));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(2000), events[1].Timestamp);
        LogEvent r1 = events[0].Event, r2 = events[1].Event;
        Assert.Equal(("1", "/src", "t.one", "k", "s", e1.Time), (r1.Id, r1.Source, r1.Type, r1.PartitionKey, r1.Subject, r1.Time));
        Assert.Equal("hello", r1.Data!.ToString());
        Assert.True(r2.IsTombstone);
        Assert.Equal(("application/json", "https://example.com/s.json"), (r2.DataContentType, r2.DataSchema));
        Assert.Equal("00-abc", r2.Extensions["traceparent"]);
        Assert.Equal(42, r2.Extensions["count"]);
        Assert.Equal(true, r2.Extensions["flag"]);
        Assert.Equal(new byte[] { 1, 2, 3 }, r2.Extensions["blob"]);
        Assert.Equal(new DateTimeOffset(2030, 5, 6, 7, 8, 9, TimeSpan.Zero), r2.Extensions["when"]);
        Assert.Equal(new Uri("https://example.com/x"), r2.Extensions["link"]);
    }

    [Fact]
    public void Every_single_flipped_byte_is_detected()
    {
        EncodedRecord[] records = [new(1, EventCodec.EncodeBody(new LogEvent("a", "/s", "t") { Data = new BinaryData(new byte[40]) }, 1))];
        byte[] batch = new byte[BatchFormat.GetBatchLength(records)];
        BatchFormat.Write(batch, records, 0, Producer, 1, 0);
        int undetected = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i] ^= 0x10;
            bool headerOk = BatchHeader.Parse(batch, out string? he) is var _ && he is null;
            bool footerOk = BatchFooter.Parse(batch.AsSpan(batch.Length - BatchFormat.FooterSize), out string? fe) is var _ && fe is null;
            if (headerOk && footerOk && BatchFormat.VerifyChecksum(batch, out _, out _))
            {
                undetected++;
            }

            batch[i] ^= 0x10;
        }

        Assert.Equal(0, undetected);
    }

    [Fact]
    public void Oversize_event_is_rejected_with_its_size()
    {
        var big = new LogEvent("big", "/s", "t") { Data = new BinaryData(new byte[LogEvent.MaxEncodedSize]) };
        EventLogException ex = Assert.Throws<EventLogException>(() => EventCodec.EncodeBody(big, 0));
        Assert.Equal(EventLogErrorReason.EventTooLarge, ex.Reason);
        Assert.Contains("'big'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1 MiB", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "/s", "t", "'id'")]
    [InlineData("1", "", "t", "'source'")]
    [InlineData("1", "/s", "", "'type'")]
    public void Missing_required_attribute_is_named(string id, string source, string type, string named)
    {
        EventLogException ex = Assert.Throws<EventLogException>(() => EventCodec.EncodeBody(new LogEvent(id, source, type), 0));
        Assert.Equal(EventLogErrorReason.InvalidArgument, ex.Reason);
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("has-dash")]
    [InlineData("waytoolongextensionname")]
    [InlineData("partitionkey")]
    [InlineData("subject")]
    public void Bad_extension_names_are_rejected(string name)
    {
        var e = new LogEvent("1", "/s", "t");
        e.Extensions[name] = "v";
        EventLogException ex = Assert.Throws<EventLogException>(() => EventCodec.EncodeBody(e, 0));
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf16_is_a_clear_error_not_a_crash()
    {
        EventLogException ex = Assert.Throws<EventLogException>(() => EventCodec.EncodeBody(new LogEvent("a\ud800", "/s", "t"), 0));
        Assert.Equal(EventLogErrorReason.InvalidArgument, ex.Reason);
    }

    [Property(MaxTest = 300)]
    public bool Any_event_round_trips(NonEmptyString id, NonEmptyString source, NonEmptyString type, string? subject, string? key, byte[]? data, int number, bool flag, long timestamp)
    {
        string Clean(string s) => new(s.Where(c => !char.IsSurrogate(c)).ToArray());
        var e = new LogEvent(Clean(id.Get) + "i", Clean(source.Get) + "s", Clean(type.Get) + "t")
        {
            Subject = subject is null ? null : Clean(subject),
            PartitionKey = key is null ? null : Clean(key),
            Data = data is null ? null : new BinaryData(data),
        };
        e.Extensions["num"] = number;
        e.Extensions["flag"] = flag;
        long ts = Math.Abs(timestamp % 4_000_000_000_000);
        (long decodedTs, LogEvent d) = EventCodec.DecodeBody(EventCodec.EncodeBody(e, ts));
        return decodedTs == ts && d.Id == e.Id && d.Source == e.Source && d.Type == e.Type && d.Subject == e.Subject
            && d.PartitionKey == e.PartitionKey && (d.Data is null) == (e.Data is null)
            && (data is null || d.Data!.ToMemory().Span.SequenceEqual(data))
            && (int)d.Extensions["num"] == number && (bool)d.Extensions["flag"] == flag;
    }

    [Property(MaxTest = 100)]
    public Property Batches_of_any_size_round_trip_offsets()
    {
        return Prop.ForAll(
            Gen.Choose(0, 200).ToArbitrary(),
            Gen.Choose(0, 1000).ToArbitrary(),
            (count, baseOffset) =>
            {
                EncodedRecord[] records = Enumerable.Range(0, count)
                    .Select(i => new EncodedRecord(i, EventCodec.EncodeBody(new LogEvent(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "/s", "t") { Data = new BinaryData(new byte[i % 7]) }, i)))
                    .ToArray();
                byte[] batch = new byte[BatchFormat.GetBatchLength(records)];
                BatchFormat.Write(batch, records, baseOffset, Producer, 1, 0);
                BatchHeader h = BatchHeader.Parse(batch, out string? error);
                var events = new List<StoredEvent>();
                BatchFormat.ReadRecords(batch, h, events, 0);
                return error is null && BatchFormat.VerifyChecksum(batch, out _, out _)
                    && events.Select(e => e.Offset).SequenceEqual(Enumerable.Range(0, count).Select(i => (long)baseOffset + i))
                    && events.Select(e => e.Event.Id).SequenceEqual(Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            });
    }
}
