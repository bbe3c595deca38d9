using FaasEvents.Log.Consumers;

namespace FaasEvents.Log.Groups;

/// <summary>One partition of a group that consumes its stream as a queue.</summary>
/// <param name="Partition">Partition.</param>
/// <param name="EndOffset">The partition's end offset.</param>
/// <param name="SettledBelow">Every event below it is settled (null: nothing consumed the partition yet).</param>
/// <param name="Unsettled">Events not settled: in flight, waiting for a redelivery, or not taken yet (the lag).</param>
/// <param name="Locked">Events held under a lock now.</param>
/// <param name="Waiting">Released events waiting for their backoff before they are delivered again.</param>
/// <param name="Redelivered">Events in flight or waiting that have been delivered more than once.</param>
/// <param name="MaxDeliveries">The most deliveries any of them has had.</param>
/// <param name="Owners">Instances holding locks now.</param>
/// <param name="OldestUnsettledAt">When the oldest unsettled event was appended (null: none).</param>
public sealed record QueuePartitionState(
    int Partition,
    long EndOffset,
    long? SettledBelow,
    long Unsettled,
    int Locked,
    int Waiting,
    int Redelivered,
    int MaxDeliveries,
    IReadOnlyList<string> Owners,
    DateTimeOffset? OldestUnsettledAt)
{
    /// <summary>What the queue's function did in the partition (null: nothing counted yet).</summary>
    public WorkCounts? Counts { get; init; }
}
