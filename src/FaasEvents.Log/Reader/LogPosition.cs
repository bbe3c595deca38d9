using System.Globalization;

namespace FaasEvents.Log.Reader;

/// <summary>
/// Where a batch starts inside a partition: its segment (by base offset) and byte position. Stored with checkpoints
/// as a hint, so a consumer resumes with one ranged read instead of scanning its segment from the start.
/// </summary>
/// <param name="SegmentBaseOffset">Base offset (name) of the segment.</param>
/// <param name="BytePosition">Byte position of a batch boundary in that segment.</param>
public readonly record struct LogPosition(long SegmentBaseOffset, long BytePosition)
{
    /// <summary><c>{segmentBaseOffset}:{bytePosition}</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{SegmentBaseOffset}:{BytePosition}");

    /// <summary>Parses <see cref="ToString"/>'s form; null when malformed (a hint is never worth failing over).</summary>
    public static LogPosition? TryParse(string? text)
    {
        int colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon > 0
            && long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out long b)
            && long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long p)
            ? new LogPosition(b, p)
            : null;
    }
}
