using Azure.Storage.Blobs.Models;

namespace FaasEvents.Log.Storage;

/// <summary>One segment blob as seen in a listing.</summary>
internal readonly record struct SegmentInfo(int Partition, long BaseOffset, long Length, DateTimeOffset LastModified, string BlobName)
{
    /// <summary>Batches in the segment, when known from its last footer; -1 when unknown.</summary>
    public int BlockCount { get; init; } = -1;

    public static bool TryCreate(BlobItem item, out SegmentInfo segment)
    {
        segment = default;
        if (!StoragePaths.TryParseSegment(item.Name, out int partition, out long baseOffset))
        {
            return false;
        }

        segment = new SegmentInfo(partition, baseOffset, item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? DateTimeOffset.MinValue, item.Name);
        return true;
    }

    /// <summary>A segment is full (takes no more appends) once either cap is reached; only then may the next one exist.</summary>
    public static bool IsFull(StreamDefinition def, long length, int blockCount) =>
        length >= def.SegmentMaxBytes || blockCount >= def.SegmentMaxBlocks;
}

/// <summary>Where a partition ends: its last segment (null if none yet), next offset and the segment's batch count.</summary>
internal sealed record PartitionTail(SegmentInfo? Segment, long NextOffset, int BlockCount);
