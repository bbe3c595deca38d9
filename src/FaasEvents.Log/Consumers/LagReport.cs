namespace FaasEvents.Log.Consumers;

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
