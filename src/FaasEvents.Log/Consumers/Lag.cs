namespace FaasEvents.Log;

/// <summary>Where a consumer group without a checkpoint starts reading.</summary>
public enum InitialOffset
{
    /// <summary>At the earliest retained event: everything in the partition is lag.</summary>
    Earliest,
    /// <summary>At the end: only events appended after the group starts are lag.</summary>
    Latest,
}

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

/// <summary>A segment removed by retention.</summary>
/// <param name="Partition">Partition.</param>
/// <param name="BaseOffset">First offset it held.</param>
/// <param name="NextOffset">First offset of the segment after it (now the earliest retained, if nothing older remains).</param>
/// <param name="Bytes">Its size.</param>
public sealed record DeletedSegment(int Partition, long BaseOffset, long NextOffset, long Bytes);

/// <summary>Lag of one partition for one consumer group.</summary>
/// <param name="Partition">Partition.</param>
/// <param name="EarliestOffset">First retained offset.</param>
/// <param name="EndOffset">End offset.</param>
/// <param name="Checkpoint">The group's next offset to read, or null when it has none.</param>
/// <param name="Lag">Events waiting: <c>EndOffset - max(Checkpoint, EarliestOffset)</c>, never negative.</param>
public sealed record PartitionLag(int Partition, long EarliestOffset, long EndOffset, long? Checkpoint, long Lag)
{
    /// <summary>Computes lag; a missing checkpoint counts from <paramref name="initialOffset"/>.</summary>
    public static PartitionLag Compute(PartitionInfo p, long? checkpoint, InitialOffset initialOffset)
    {
        ArgumentNullException.ThrowIfNull(p);
        long from = checkpoint ?? (initialOffset == InitialOffset.Latest ? p.EndOffset : p.EarliestOffset);
        from = Math.Max(from, p.EarliestOffset); // a checkpoint below retention resumes at the earliest retained
        return new PartitionLag(p.Partition, p.EarliestOffset, p.EndOffset, checkpoint, Math.Max(0, p.EndOffset - from));
    }
}

/// <summary>Lag of a consumer group on a stream.</summary>
/// <param name="Stream">Stream.</param>
/// <param name="Group">Consumer group.</param>
/// <param name="Partitions">Per-partition rows, by partition number.</param>
public sealed record LagReport(string Stream, string Group, IReadOnlyList<PartitionLag> Partitions)
{
    /// <summary>Sum of all partitions' lag.</summary>
    public long TotalLag => Partitions.Sum(p => p.Lag);

    /// <summary>Partitions with lag greater than zero.</summary>
    public int PartitionsWithLag => Partitions.Count(p => p.Lag > 0);
}
