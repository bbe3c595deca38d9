using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Storage;

/// <summary>One segment blob as seen in a listing.</summary>
internal readonly record struct SegmentInfo(int Partition, long BaseOffset, long Length, DateTimeOffset LastModified, string BlobName)
{
    /// <summary>Batches in the segment, when known from its last footer; -1 when unknown.</summary>
    public int BlockCount { get; init; } = -1;

    /// <summary>For a compacted segment, the end of the offset range it covers (exclusive); null for an appended segment.</summary>
    public long? EndOffset { get; init; }

    /// <summary>True for a segment written by compaction (closed, may have offset gaps).</summary>
    public bool IsCompacted => EndOffset is not null;

    public static bool TryCreate(BlobItem item, out SegmentInfo segment)
    {
        segment = default;
        if (!StoragePaths.TryParseSegment(item.Name, out int partition, out long baseOffset, out long? endOffset))
        {
            return false;
        }

        segment = new SegmentInfo(partition, baseOffset, item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? DateTimeOffset.MinValue, item.Name) { EndOffset = endOffset };
        return true;
    }

    /// <summary>A segment is full (takes no more appends) once either cap is reached; only then may the next one exist.</summary>
    public static bool IsFull(StreamDefinition def, long length, int blockCount) =>
        length >= def.SegmentMaxBytes || blockCount >= def.SegmentMaxBlocks;

    /// <summary>
    /// The partition's readable view: a compacted segment hides every segment whose start lies in its range (the
    /// originals it replaced, or an older compaction of a narrower or equal range). So after a crash at any point of
    /// a compaction a reader sees either the complete new segment or the old ones, never both. Sorted by base offset.
    /// </summary>
    public static List<SegmentInfo> Resolve(List<SegmentInfo> all)
    {
        all.Sort((a, b) => a.BaseOffset != b.BaseOffset ? a.BaseOffset.CompareTo(b.BaseOffset) : string.CompareOrdinal(a.BlobName, b.BlobName));
        if (!all.Exists(s => s.IsCompacted))
        {
            return all;
        }

        return all.Where(s => !all.Exists(c => Supersedes(c, s))).ToList();
    }

    /// <summary>Where segment <paramref name="i"/> of a resolved view ends: its own end if compacted, else the next one's base (open-ended for the last).</summary>
    public static long EndOf(List<SegmentInfo> resolved, int i) =>
        resolved[i].EndOffset ?? (i + 1 < resolved.Count ? resolved[i + 1].BaseOffset : long.MaxValue);

    /// <summary>True when compacted segment <paramref name="c"/> replaces <paramref name="s"/>.</summary>
    public static bool Supersedes(SegmentInfo c, SegmentInfo s)
    {
        if (c.EndOffset is not { } end || c.BlobName == s.BlobName || s.BaseOffset < c.BaseOffset || s.BaseOffset >= end)
        {
            return false;
        }

        if (s.EndOffset is not { } sEnd)
        {
            return true; // an appended segment starting inside the range was one of its inputs
        }

        long width = end - c.BaseOffset, sWidth = sEnd - s.BaseOffset;
        return sEnd <= end && (sWidth < width || string.CompareOrdinal(c.BlobName, s.BlobName) > 0);
    }
}
