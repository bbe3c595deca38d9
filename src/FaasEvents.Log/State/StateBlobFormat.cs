using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace FaasEvents.Log.State;

/// <summary>
/// The state blob format (docs/storage-format.md, "Keyed state"). Version 2, written now: entries sorted by key in
/// checksummed blocks of about 64 KiB, then an index of each block's first key and place, then a fixed footer, so a
/// reader can fetch one key's block with a ranged read and a writer or restorer never holds more than one block of
/// encoded bytes. Version 1 (one checksummed run of entries) is still read.
/// </summary>
internal static class StateBlobFormat
{
    public const byte KindFull = 1;
    public const byte KindDelta = 2;
    public const int HeaderSize = 24;
    public const int FooterSize = 20;
    private const int BlockTarget = 64 * 1024;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static ReadOnlySpan<byte> MagicV1 => "FES1"u8;

    private static ReadOnlySpan<byte> MagicV2 => "FES2"u8;

    private static ReadOnlySpan<byte> FooterMagic => "FESX"u8;

    /// <summary>Writes a version 2 blob of <paramref name="entries"/>, which must be in ordinal key order, to <paramref name="output"/>.</summary>
    public static async Task WriteAsync(Stream output, byte kind, long nextOffset, IReadOnlyCollection<(string Key, BinaryData? Value)> entries, CancellationToken cancellationToken)
    {
        byte[] header = new byte[HeaderSize];
        MagicV2.CopyTo(header);
        header[4] = 2;
        header[5] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), nextOffset);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), entries.Count);
        await output.WriteAsync(header, cancellationToken);
        long position = HeaderSize;
        using var block = new MemoryStream();
        using var index = new MemoryStream();
        int inBlock = 0;
        string? firstKey = null;
        string? previous = null;

        async Task FlushAsync()
        {
            int payload = (int)block.Length;
            byte[] frame = new byte[8 + payload + 4];
            BinaryPrimitives.WriteInt32LittleEndian(frame, payload);
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), inBlock);
            block.GetBuffer().AsSpan(0, payload).CopyTo(frame.AsSpan(8));
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8 + payload), Crc32.HashToUInt32(frame.AsSpan(8, payload)));
            await output.WriteAsync(frame, cancellationToken);
            WriteIndexEntry(index, firstKey!, position, frame.Length);
            position += frame.Length;
            block.SetLength(0);
            inBlock = 0;
        }

        foreach ((string key, BinaryData? value) in entries)
        {
            if (previous is not null && string.CompareOrdinal(previous, key) >= 0)
            {
                throw new ArgumentException($"State entries must be in ordinal key order without repeats; '{key}' follows '{previous}'.", nameof(entries));
            }

            previous = key;
            firstKey = inBlock == 0 ? key : firstKey;
            WriteEntry(block, key, value);
            inBlock++;
            if (block.Length >= BlockTarget)
            {
                await FlushAsync();
            }
        }

        if (inBlock > 0)
        {
            await FlushAsync();
        }

        byte[] footer = new byte[FooterSize];
        BinaryPrimitives.WriteInt64LittleEndian(footer, position);
        BinaryPrimitives.WriteInt32LittleEndian(footer.AsSpan(8), (int)index.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(footer.AsSpan(12), Crc32.HashToUInt32(index.GetBuffer().AsSpan(0, (int)index.Length)));
        FooterMagic.CopyTo(footer.AsSpan(16));
        await output.WriteAsync(index.GetBuffer().AsMemory(0, (int)index.Length), cancellationToken);
        await output.WriteAsync(footer, cancellationToken);
    }

    /// <summary>Reads every entry of a blob of either version from <paramref name="input"/>, in order, one block at a time.</summary>
    public static async IAsyncEnumerable<(string Key, BinaryData? Value)> ReadAllAsync(Stream input, string name, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        byte[] header = new byte[HeaderSize];
        await input.ReadExactlyAsync(header, cancellationToken);
        if (header.AsSpan(0, 4).SequenceEqual(MagicV1))
        {
            // Version 1: one run of entries checksummed as a whole; read it whole (written before the indexed format).
            using var rest = new MemoryStream();
            await input.CopyToAsync(rest, cancellationToken);
            byte[] all = [.. header, .. rest.ToArray()];
            foreach ((string, BinaryData?) entry in DecodeV1(name, all))
            {
                yield return entry;
            }

            yield break;
        }

        (_, long count) = ReadHeader(name, header);
        byte[] frameHead = new byte[8];
        long position = HeaderSize;
        for (long read = 0; read < count;)
        {
            await ReadExactlyOrCorruptAsync(input, frameHead, name, cancellationToken);
            int payload = BinaryPrimitives.ReadInt32LittleEndian(frameHead);
            if (payload is < 0 or > 64 * 1024 * 1024)
            {
                throw Corrupt(name, $"a block claims {payload} bytes");
            }

            byte[] frame = new byte[8 + payload + 4];
            frameHead.CopyTo(frame, 0);
            await ReadExactlyOrCorruptAsync(input, frame.AsMemory(8), name, cancellationToken);
            position += frame.Length;
            foreach ((string, BinaryData?) entry in DecodeBlock(name, frame))
            {
                read++;
                yield return entry;
            }
        }

        // What follows the entries must be exactly the index and the footer, which says where the index starts: a
        // header whose count was damaged cannot end the restore early unnoticed.
        using var tail = new MemoryStream();
        await input.CopyToAsync(tail, cancellationToken);
        if (tail.Length < FooterSize)
        {
            throw Corrupt(name, "the blob ends before its footer");
        }

        byte[] after = tail.ToArray();
        (long indexOffset, int indexLength, uint crc) = ReadFooter(name, after.AsSpan(after.Length - FooterSize));
        if (indexOffset != position || indexLength != after.Length - FooterSize)
        {
            throw Corrupt(name, "the entries do not end where the index starts");
        }

        DecodeIndex(name, after.AsSpan(0, indexLength), crc);
    }

    private static async Task ReadExactlyOrCorruptAsync(Stream input, Memory<byte> buffer, string name, CancellationToken cancellationToken)
    {
        try
        {
            await input.ReadExactlyAsync(buffer, cancellationToken);
        }
        catch (EndOfStreamException)
        {
            throw Corrupt(name, "the blob ends in the middle of its entries");
        }
    }

    /// <summary>The kind and entry count from a version 2 header.</summary>
    public static (byte Kind, long Count) ReadHeader(string name, ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderSize || !header[..4].SequenceEqual(MagicV2) || header[4] != 2)
        {
            throw Corrupt(name, "state header magic 'FES2' (version 2) not found");
        }

        return (header[5], BinaryPrimitives.ReadInt64LittleEndian(header[16..]));
    }

    /// <summary>True when the blob starts like a version 1 blob.</summary>
    public static bool IsVersion1(ReadOnlySpan<byte> start) => start.Length >= 4 && start[..4].SequenceEqual(MagicV1);

    /// <summary>The index of a version 2 blob from its footer and the bytes holding the index.</summary>
    public static (long IndexOffset, int IndexLength, uint Crc) ReadFooter(string name, ReadOnlySpan<byte> footer)
    {
        if (footer.Length != FooterSize || !footer[16..].SequenceEqual(FooterMagic))
        {
            throw Corrupt(name, "state footer magic 'FESX' not found");
        }

        return (BinaryPrimitives.ReadInt64LittleEndian(footer), BinaryPrimitives.ReadInt32LittleEndian(footer[8..]), BinaryPrimitives.ReadUInt32LittleEndian(footer[12..]));
    }

    /// <summary>Decodes a checked index: each block's first key, offset and length.</summary>
    public static List<StateBlockRef> DecodeIndex(string name, ReadOnlySpan<byte> index, uint crc)
    {
        if (Crc32.HashToUInt32(index) != crc)
        {
            throw Corrupt(name, "index checksum mismatch");
        }

        var blocks = new List<StateBlockRef>();
        for (int pos = 0; pos < index.Length;)
        {
            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(index[pos..]);
            string key = Utf8.GetString(index.Slice(pos + 2, keyLength));
            pos += 2 + keyLength;
            blocks.Add(new StateBlockRef(key, BinaryPrimitives.ReadInt64LittleEndian(index[pos..]), BinaryPrimitives.ReadInt32LittleEndian(index[(pos + 8)..])));
            pos += 12;
        }

        return blocks;
    }

    /// <summary>Decodes one checked block frame (length, count, entries, CRC).</summary>
    public static List<(string Key, BinaryData? Value)> DecodeBlock(string name, ReadOnlySpan<byte> frame)
    {
        int payload = BinaryPrimitives.ReadInt32LittleEndian(frame);
        int count = BinaryPrimitives.ReadInt32LittleEndian(frame[4..]);
        if (frame.Length != 8 + payload + 4)
        {
            throw Corrupt(name, "a block's length does not match its frame");
        }

        ReadOnlySpan<byte> entries = frame.Slice(8, payload);
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(frame[(8 + payload)..]);
        uint computed = Crc32.HashToUInt32(entries);
        if (stored != computed)
        {
            throw Corrupt(name, $"block checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
        }

        var result = new List<(string, BinaryData?)>(count);
        int pos = DecodeEntries(name, entries, count, result);
        if (pos != entries.Length)
        {
            throw Corrupt(name, "entries do not fill the block");
        }

        return result;
    }

    /// <summary>Decodes a whole version 1 blob (kind at byte 5, count at 16, CRC of everything before the last 4 bytes).</summary>
    public static List<(string Key, BinaryData? Value)> DecodeV1(string name, ReadOnlySpan<byte> data)
    {
        if (data.Length < 24 || !data[..4].SequenceEqual(MagicV1) || data[4] != 1)
        {
            throw Corrupt(name, "state header magic 'FES1' not found");
        }

        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        uint computed = Crc32.HashToUInt32(data[..^4]);
        if (stored != computed)
        {
            throw Corrupt(name, $"checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(data[16..]);
        var result = new List<(string, BinaryData?)>(count);
        int pos = 20 + DecodeEntries(name, data[20..^4], count, result);
        if (pos != data.Length - 4)
        {
            throw Corrupt(name, "entries do not fill the blob");
        }

        return result;
    }

    public static EventLogException Corrupt(string name, string why) =>
        new(EventLogErrorReason.CorruptData, $"Corrupt state blob {name}: {why}. Nothing was read from it; nothing was skipped.");

    private static int DecodeEntries(string name, ReadOnlySpan<byte> data, int count, List<(string, BinaryData?)> into)
    {
        int pos = 0;
        for (int i = 0; i < count; i++)
        {
            if (pos + 3 > data.Length)
            {
                throw Corrupt(name, "an entry runs past its block");
            }

            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(data[pos..]);
            string key = Utf8.GetString(data.Slice(pos + 2, keyLength));
            pos += 2 + keyLength;
            if (data[pos++] == 0)
            {
                into.Add((key, null));
                continue;
            }

            int valueLength = BinaryPrimitives.ReadInt32LittleEndian(data[pos..]);
            into.Add((key, new BinaryData(data.Slice(pos + 4, valueLength).ToArray())));
            pos += 4 + valueLength;
        }

        return pos;
    }

    private static void WriteEntry(MemoryStream to, string key, BinaryData? value)
    {
        int keyBytes = Utf8.GetByteCount(key);
        ReadOnlySpan<byte> v = value is null ? default : value.ToMemory().Span;
        int size = 2 + keyBytes + 1 + (value is null ? 0 : 4 + v.Length);
        int at = (int)to.Length;
        to.SetLength(at + size); // one growth per entry, written in place
        Span<byte> span = to.GetBuffer().AsSpan(at, size);
        BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)keyBytes));
        Utf8.GetBytes(key, span[2..]);
        span[2 + keyBytes] = value is null ? (byte)0 : (byte)1;
        if (value is not null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[(3 + keyBytes)..], v.Length);
            v.CopyTo(span[(7 + keyBytes)..]);
        }

        to.Position = at + size;
    }

    private static void WriteIndexEntry(MemoryStream to, string firstKey, long offset, int length)
    {
        Span<byte> buffer = stackalloc byte[12];
        byte[] k = Utf8.GetBytes(firstKey);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer, checked((ushort)k.Length));
        to.Write(buffer[..2]);
        to.Write(k);
        BinaryPrimitives.WriteInt64LittleEndian(buffer, offset);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[8..], length);
        to.Write(buffer);
    }
}
