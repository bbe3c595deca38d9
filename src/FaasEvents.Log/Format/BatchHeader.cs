using System.Buffers.Binary;

namespace FaasEvents.Log.Format;

/// <summary>The fixed 72-byte batch header.</summary>
internal readonly record struct BatchHeader(
    int BatchLength,
    int RecordCount,
    long BaseOffset,
    int OffsetSpan,
    long FirstTimestamp,
    long MaxTimestamp,
    Guid ProducerId,
    long ProducerSequence)
{
    /// <summary>The writing producer instance's random epoch (0 = not recorded): tells incarnations of one fixed producer id apart.</summary>
    public uint ProducerEpoch { get; init; }

    /// <summary>Header flags: <see cref="BatchFormat.SequencedFlag"/> or 0.</summary>
    public byte Flags { get; init; }

    /// <summary>True when every record carries a sequence of the writer named by <see cref="ProducerId"/>.</summary>
    public bool IsSequenced => (Flags & BatchFormat.SequencedFlag) != 0;

    public long NextOffset => BaseOffset + OffsetSpan;

    public void Write(Span<byte> destination)
    {
        BatchFormat.HeaderMagic.CopyTo(destination);
        destination[4] = BatchFormat.FormatVersion;
        destination[5] = Flags;
        destination[6] = 0;
        destination[7] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], BatchLength);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], RecordCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], BaseOffset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], OffsetSpan);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], ProducerEpoch);
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], FirstTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(destination[40..], MaxTimestamp);
        ProducerId.TryWriteBytes(destination.Slice(48, 16), bigEndian: true, out _);
        BinaryPrimitives.WriteInt64LittleEndian(destination[64..], ProducerSequence);
    }

    /// <summary>Parses a header; returns an error text when the bytes are not a v1 batch header.</summary>
    public static BatchHeader Parse(ReadOnlySpan<byte> source, out string? error)
    {
        error = null;
        if (source.Length < BatchFormat.HeaderSize || !source[..4].SequenceEqual(BatchFormat.HeaderMagic))
        {
            error = "batch header magic 'FEB1' not found";
            return default;
        }

        if (source[4] != BatchFormat.FormatVersion)
        {
            error = $"unsupported batch format version {source[4]} (this reader understands {BatchFormat.FormatVersion})";
            return default;
        }

        var header = new BatchHeader(
            BinaryPrimitives.ReadInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[12..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[40..]),
            new Guid(source.Slice(48, 16), bigEndian: true),
            BinaryPrimitives.ReadInt64LittleEndian(source[64..]))
        {
            ProducerEpoch = BinaryPrimitives.ReadUInt32LittleEndian(source[28..]),
            Flags = source[5],
        };
        if ((header.Flags & ~BatchFormat.SequencedFlag) != 0)
        {
            error = $"unsupported batch flags 0x{header.Flags:x2} (this reader understands 0x{BatchFormat.SequencedFlag:x2}: sequenced records)";
        }
        else if (header.BatchLength < BatchFormat.Overhead || header.BatchLength > BatchFormat.MaxBatchSize)
        {
            error = $"batch length {header.BatchLength} is outside [{BatchFormat.Overhead}, {BatchFormat.MaxBatchSize}]";
        }
        else if (header.RecordCount < 0 || header.OffsetSpan < header.RecordCount || header.BaseOffset < 0)
        {
            error = $"batch header is inconsistent (records {header.RecordCount}, span {header.OffsetSpan}, base offset {header.BaseOffset})";
        }

        return header;
    }
}
