using FaasEvents.Log.Consumers;

namespace FaasEvents.Log.Groups;

/// <summary>One partition of a consumer group: where it is, how far behind, and who holds it.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Checkpoint">The next offset the group will read (null: never checkpointed; it starts at the group's initial offset).</param>
/// <param name="CheckpointedAt">When the checkpoint blob was last written (a claim also writes it: the owner's id).</param>
/// <param name="EarliestOffset">The oldest retained offset of the partition.</param>
/// <param name="EndOffset">The offset the next append gets.</param>
/// <param name="Lag">Events between the checkpoint (or the earliest offset) and the end.</param>
/// <param name="Owner">The instance that last claimed the partition (kept after it lets go).</param>
/// <param name="Lease">The lease state: <c>leased</c> (an instance holds it now), <c>available</c>, <c>expired</c>, <c>breaking</c> or <c>broken</c>.</param>
public sealed record GroupPartitionState(int Partition, long? Checkpoint, DateTimeOffset? CheckpointedAt, long EarliestOffset, long EndOffset, long Lag, string? Owner, string Lease)
{
    /// <summary>True while an instance holds the partition's lease.</summary>
    public bool IsOwned => Lease is "leased" or "breaking";

    /// <summary>What the group's function did in the partition, as far as it checkpointed (null: nothing counted yet).</summary>
    public WorkCounts? Counts { get; init; }

    /// <summary>
    /// How long the owner's lease lasts without a renewal (as it claimed it; null: unknown). Storage does not tell when a
    /// held lease expires, only that it is held: while held, it expires at most this long after the owner last renewed
    /// it, so a crashed owner's partition is free again within this time.
    /// </summary>
    public TimeSpan? LeaseDuration { get; init; }

    /// <summary>When the oldest event the group has not handled yet was appended (null: caught up).</summary>
    public DateTimeOffset? OldestUnhandledAt { get; init; }
}
