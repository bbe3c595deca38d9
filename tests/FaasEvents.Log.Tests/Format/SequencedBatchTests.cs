using FaasEvents.Log.Events;
using FaasEvents.Log.Format;

namespace FaasEvents.Log.Tests.Format;

/// <summary>Sequenced batches (docs/storage-format.md, "Format: sequenced batches"): one writer per batch, a sequence per record.</summary>
public class SequencedBatchTests
{
    private static readonly Guid Writer = Guid.Parse("8f2b5d2e-13a4-8c6d-9e1f-0123456789ab");

    [Fact]
    public void A_sequenced_batch_round_trips_each_record_s_writer_and_sequence()
    {
        long[] sequences = [(7L << 16) | 0, (7L << 16) | 1, 9L << 16, 3, long.MaxValue >> 1]; // growing, then not: deltas are signed
        EncodedRecord[] records = [.. sequences.Select((s, i) => new EncodedRecord(1000 + i, EventCodec.EncodeBody(new LogEvent($"e{i}", "/t", "t"), 1000 + i), new WriterMark(Writer, s)))];

        byte[] buffer = new byte[BatchFormat.GetBatchLength(records)];
        int length = BatchFormat.Write(buffer, records, baseOffset: 40, Guid.NewGuid(), producerSequence: 2, blockIndex: 0, producerEpoch: 5);

        Assert.Equal(buffer.Length, length);
        BatchHeader h = BatchHeader.Parse(buffer, out string? error);
        Assert.Null(error);
        Assert.True(h.IsSequenced);
        Assert.Equal((Writer, 2L, 5u), (h.ProducerId, h.ProducerSequence, h.ProducerEpoch)); // the header names the writer; the append protocol's sequence and epoch stay
        var events = new List<StoredEvent>();
        BatchFormat.ReadRecords(buffer, h, events, partition: 1);
        Assert.Equal(sequences, events.Select(e => e.Mark!.Value.Sequence));
        Assert.All(events, e => Assert.Equal(Writer, e.Mark!.Value.Writer));
        Assert.Equal(["e0", "e1", "e2", "e3", "e4"], events.Select(e => e.Event.Id));
    }

    [Fact]
    public void Consecutive_outputs_of_one_input_cost_one_byte_each()
    {
        static EncodedRecord Record(WriterMark? mark) => new(1, EventCodec.EncodeBody(new LogEvent("x", "/t", "t"), 1), mark);
        EncodedRecord[] plain = [.. Enumerable.Range(0, 10).Select(i => Record(null))];
        EncodedRecord[] sequenced = [.. Enumerable.Range(0, 10).Select(i => Record(new WriterMark(Writer, (5L << 16) | (long)i)))];

        int extra = BatchFormat.GetBatchLength(sequenced) - BatchFormat.GetBatchLength(plain);

        Assert.Equal(Varint.SizeSigned(5L << 16) + 9, extra); // the first sequence in full, then a delta of 1 per record
    }

    [Fact]
    public void A_batch_mixing_writers_or_sequenced_and_plain_records_is_refused()
    {
        byte[] body = EventCodec.EncodeBody(new LogEvent("x", "/t", "t"), 1);
        EncodedRecord[] mixed = [new(1, body, new WriterMark(Writer, 1)), new(1, body, new WriterMark(Guid.NewGuid(), 2))];
        EncodedRecord[] half = [new(1, body, new WriterMark(Writer, 1)), new(1, body)];

        Assert.Throws<ArgumentException>(() => BatchFormat.Write(new byte[BatchFormat.GetBatchLength(mixed)], mixed, 0, Guid.Empty, 0, 0));
        Assert.Throws<ArgumentException>(() => BatchFormat.Write(new byte[BatchFormat.GetBatchLength(half)], half, 0, Guid.Empty, 0, 0));
    }

    [Fact]
    public void Unknown_header_flags_are_refused_with_what_this_reader_understands()
    {
        EncodedRecord[] records = [new(1, EventCodec.EncodeBody(new LogEvent("x", "/t", "t"), 1))];
        byte[] buffer = new byte[BatchFormat.GetBatchLength(records)];
        BatchFormat.Write(buffer, records, 0, Guid.NewGuid(), 1, 0);
        buffer[5] = 0x02;

        BatchHeader.Parse(buffer, out string? error);

        Assert.Equal("unsupported batch flags 0x02 (this reader understands 0x01: sequenced records)", error);
    }
}
