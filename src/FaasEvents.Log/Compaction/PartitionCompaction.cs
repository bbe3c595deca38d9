namespace FaasEvents.Log.Compaction;

/// <summary>What compacting one partition did.</summary>
/// <param name="Partition">Partition.</param>
/// <param name="SegmentsIn">Closed segments read.</param>
/// <param name="SegmentsOut">Compacted segments written.</param>
/// <param name="EventsRead">Events in the closed segments.</param>
/// <param name="EventsKept">Events left in them.</param>
/// <param name="TombstonesRemoved">Tombstones dropped after <see cref="CompactionOptions.DeleteRetention"/>.</param>
/// <param name="BytesBefore">Bytes of the closed segments before.</param>
/// <param name="BytesAfter">Bytes of the closed segments after.</param>
public sealed record PartitionCompaction(int Partition, int SegmentsIn, int SegmentsOut, long EventsRead, long EventsKept, long TombstonesRemoved, long BytesBefore, long BytesAfter);
