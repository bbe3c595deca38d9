using System.Buffers.Binary;
using System.IO.Hashing;
using FaasEvents.Log.Events;

namespace FaasEvents.Log.Format;

/// <summary>
/// The v1 batch layout. One Append Block holds exactly one batch: header, records, footer.
/// docs/storage-format.md is the normative description; keep the two in step.
/// </summary>
internal static class BatchFormat
{
    public const byte FormatVersion = 1;
    public const int HeaderSize = 72;
    public const int FooterSize = 32;
    public const int Overhead = HeaderSize + FooterSize;

    /// <summary>Bytes before a record body: record length (4) and offset delta (4); a sequenced record adds its sequence delta (a varint).</summary>
    public const int RecordPrefixSize = 8;

    /// <summary>Header flag: the batch is one writer's (its id in the producer id field) and every record carries a sequence.</summary>
    public const byte SequencedFlag = 1;

    /// <summary>The largest batch we write or accept: the classic Append Block limit (4 MiB).</summary>
    public const int MaxBatchSize = 4 * 1024 * 1024;

    public static ReadOnlySpan<byte> HeaderMagic => "FEB1"u8;
    public static ReadOnlySpan<byte> FooterMagic => "FEF1"u8;

    /// <summary>Writes header, record prefixes + bodies and footer into <paramref name="destination"/>.</summary>
    /// <returns>The batch length in bytes.</returns>
    public static int Write(
        Span<byte> destination,
        IReadOnlyList<EncodedRecord> records,
        long baseOffset,
        Guid producerId,
        long producerSequence,
        int blockIndex,
        uint producerEpoch = 0) => Write(destination, records, baseOffset, producerId, producerSequence, blockIndex, null, records.Count, producerEpoch);

    /// <summary>
    /// Writes a batch whose records sit at the given offset deltas within a span of <paramref name="offsetSpan"/>
    /// offsets (a compacted batch: gaps where superseded events were removed; zero records is allowed).
    /// </summary>
    public static int Write(
        Span<byte> destination,
        IReadOnlyList<EncodedRecord> records,
        long baseOffset,
        Guid producerId,
        long producerSequence,
        int blockIndex,
        IReadOnlyList<int>? offsetDeltas,
        int offsetSpan,
        uint producerEpoch = 0)
    {
        int length = GetBatchLength(records);
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small for batch.", nameof(destination));
        }

        long firstTs = records.Count > 0 ? records[0].Timestamp : 0;
        long maxTs = firstTs;
        WriterMark? first = records.Count > 0 ? records[0].Mark : null;
        long previous = 0;
        int pos = HeaderSize;
        for (int i = 0; i < records.Count; i++)
        {
            EncodedRecord r = records[i];
            maxTs = Math.Max(maxTs, r.Timestamp);
            if (r.Mark?.Writer != first?.Writer)
            {
                throw new ArgumentException("A batch holds either unsequenced records or the sequenced records of one writer.", nameof(records));
            }

            int sequenceBytes = 0;
            if (r.Mark is { } mark)
            {
                sequenceBytes = Varint.WriteSigned(destination[(pos + RecordPrefixSize)..], mark.Sequence - previous);
                previous = mark.Sequence;
            }

            BinaryPrimitives.WriteInt32LittleEndian(destination[pos..], 4 + sequenceBytes + r.Body.Length);
            BinaryPrimitives.WriteInt32LittleEndian(destination[(pos + 4)..], offsetDeltas?[i] ?? i);
            r.Body.Span.CopyTo(destination[(pos + RecordPrefixSize + sequenceBytes)..]);
            pos += RecordPrefixSize + sequenceBytes + r.Body.Length;
        }

        var header = new BatchHeader(length, records.Count, baseOffset, offsetSpan, firstTs, maxTs, first?.Writer ?? producerId, producerSequence)
        {
            ProducerEpoch = producerEpoch,
            Flags = first is null ? (byte)0 : SequencedFlag,
        };
        header.Write(destination);
        Span<byte> footer = destination.Slice(length - FooterSize, FooterSize);
        BinaryPrimitives.WriteInt64LittleEndian(footer, baseOffset);
        BinaryPrimitives.WriteInt32LittleEndian(footer[8..], offsetSpan);
        BinaryPrimitives.WriteInt32LittleEndian(footer[12..], length);
        BinaryPrimitives.WriteInt32LittleEndian(footer[16..], blockIndex);
        BinaryPrimitives.WriteInt32LittleEndian(footer[20..], 0);
        uint crc = Crc32.HashToUInt32(destination[..(length - 8)]);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[24..], crc);
        FooterMagic.CopyTo(footer[28..]);
        return length;
    }

    public static int GetBatchLength(IReadOnlyList<EncodedRecord> records)
    {
        int length = Overhead;
        long previous = 0;
        foreach (EncodedRecord r in records)
        {
            length += RecordPrefixSize + r.Body.Length;
            if (r.Mark is { } mark)
            {
                length += Varint.SizeSigned(mark.Sequence - previous);
                previous = mark.Sequence;
            }
        }

        return length;
    }

    /// <summary>Checks the checksum of a complete batch. Returns the stored and computed values.</summary>
    public static bool VerifyChecksum(ReadOnlySpan<byte> batch, out uint stored, out uint computed)
    {
        stored = BinaryPrimitives.ReadUInt32LittleEndian(batch[(batch.Length - 8)..]);
        computed = Crc32.HashToUInt32(batch[..^8]);
        return stored == computed;
    }

    /// <summary>Decodes the records of a verified batch.</summary>
    public static void ReadRecords(ReadOnlySpan<byte> batch, BatchHeader header, List<StoredEvent> into, int partition)
    {
        int pos = HeaderSize;
        int end = batch.Length - FooterSize;
        long sequence = 0;
        var texts = new TextCache();
        for (int i = 0; i < header.RecordCount; i++)
        {
            if (pos + RecordPrefixSize > end)
            {
                throw new FormatException($"record {i} runs past the end of the batch");
            }

            int recordLength = BinaryPrimitives.ReadInt32LittleEndian(batch[pos..]);
            int offsetDelta = BinaryPrimitives.ReadInt32LittleEndian(batch[(pos + 4)..]);
            if (recordLength < 4 || pos + 4 + recordLength > end)
            {
                throw new FormatException($"record {i} has invalid length {recordLength}");
            }

            if (offsetDelta < 0 || offsetDelta >= header.OffsetSpan)
            {
                throw new FormatException($"record {i} has offset delta {offsetDelta} outside the batch span {header.OffsetSpan}");
            }

            int sequenceBytes = 0;
            WriterMark? mark = null;
            if (header.IsSequenced)
            {
                sequenceBytes = Varint.ReadSigned(batch.Slice(pos + RecordPrefixSize, recordLength - 4), out long delta);
                if (sequenceBytes == 0 || sequence + delta < 0)
                {
                    throw new FormatException($"record {i} has an invalid sequence");
                }

                sequence += delta;
                mark = new WriterMark(header.ProducerId, sequence);
            }

            ReadOnlySpan<byte> body = batch.Slice(pos + RecordPrefixSize + sequenceBytes, recordLength - 4 - sequenceBytes);
            (long timestamp, LogEvent e) = EventCodec.DecodeBody(body, texts);
            into.Add(new StoredEvent(partition, header.BaseOffset + offsetDelta, DateTimeOffset.FromUnixTimeMilliseconds(timestamp), e) { Mark = mark });
            pos += 4 + recordLength;
        }

        if (pos != end)
        {
            throw new FormatException($"{end - pos} unexpected bytes after the last record");
        }
    }
}
