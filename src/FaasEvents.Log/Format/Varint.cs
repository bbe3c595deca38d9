namespace FaasEvents.Log.Format;

/// <summary>LEB128 variable-length integers: unsigned, and signed as zigzag (small magnitudes take one byte either way).</summary>
internal static class Varint
{
    /// <summary>The most bytes a 64-bit value takes.</summary>
    public const int MaxLength = 10;

    public static int Size(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    public static int SizeSigned(long value) => Size(ZigZag(value));

    public static int Write(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    public static int WriteSigned(Span<byte> destination, long value) => Write(destination, ZigZag(value));

    /// <summary>Reads a value; returns the bytes it took, or 0 when the bytes end first or it is longer than 10 bytes.</summary>
    public static int Read(ReadOnlySpan<byte> source, out ulong value)
    {
        value = 0;
        for (int i = 0, shift = 0; i < source.Length && i < MaxLength; i++, shift += 7)
        {
            value |= (ulong)(source[i] & 0x7F) << shift;
            if (source[i] < 0x80)
            {
                return i + 1;
            }
        }

        return 0;
    }

    public static int ReadSigned(ReadOnlySpan<byte> source, out long value)
    {
        int n = Read(source, out ulong raw);
        value = (long)(raw >> 1) ^ -(long)(raw & 1);
        return n;
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));
}
