namespace FaasEvents.Log.Consumers;

/// <summary>A partition's extent.</summary>
/// <param name="Partition">Partition number.</param>
/// <param name="EarliestOffset">First retained offset.</param>
/// <param name="EndOffset">The offset the next appended event will get.</param>
/// <param name="Segments">Number of segment blobs.</param>
/// <param name="Bytes">Total bytes in its segments.</param>
/// <param name="LastAppend">When its last segment was last written, if it has one.</param>
public sealed record PartitionInfo(int Partition, long EarliestOffset, long EndOffset, int Segments, long Bytes, DateTimeOffset? LastAppend)
{
    /// <summary>Retained events (an upper bound once compaction leaves gaps).</summary>
    public long RetainedEvents => EndOffset - EarliestOffset;
}
