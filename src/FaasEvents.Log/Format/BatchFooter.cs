using System.Buffers.Binary;

namespace FaasEvents.Log.Format;

/// <summary>The fixed 32-byte batch footer: lets a reader find a partition's end with one ranged read.</summary>
internal readonly record struct BatchFooter(long BaseOffset, int OffsetSpan, int BatchLength, int BlockIndex)
{
    public long NextOffset => BaseOffset + OffsetSpan;

    public static BatchFooter Parse(ReadOnlySpan<byte> source, out string? error)
    {
        error = null;
        if (source.Length < BatchFormat.FooterSize || !source.Slice(28, 4).SequenceEqual(BatchFormat.FooterMagic))
        {
            error = "batch footer magic 'FEF1' not found";
            return default;
        }

        var footer = new BatchFooter(
            BinaryPrimitives.ReadInt64LittleEndian(source),
            BinaryPrimitives.ReadInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[12..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[16..]));
        if (footer.BaseOffset < 0 || footer.OffsetSpan < 0 || footer.BatchLength < BatchFormat.Overhead || footer.BlockIndex < 0)
        {
            error = $"batch footer is inconsistent (base offset {footer.BaseOffset}, span {footer.OffsetSpan}, length {footer.BatchLength}, block {footer.BlockIndex})";
        }

        return footer;
    }
}
