namespace FaasEvents.Log.Storage;

/// <summary>Where a partition ends: its last segment (null if none yet), next offset and the segment's batch count.</summary>
internal sealed record PartitionTail(SegmentInfo? Segment, long NextOffset, int BlockCount);
