namespace FaasEvents.Log.Consumers;

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

    /// <summary>
    /// Lag of a partition consumed as a queue: the events not settled (in flight, waiting for a redelivery, or not taken
    /// yet). <see cref="Checkpoint"/> is the queue's settled offset; a queue nothing consumed yet counts from
    /// <paramref name="initialOffset"/>.
    /// </summary>
    public static PartitionLag ForQueue(PartitionInfo p, Queues.QueueState? queue, InitialOffset initialOffset)
    {
        ArgumentNullException.ThrowIfNull(p);
        return queue is null
            ? Compute(p, null, initialOffset)
            : new PartitionLag(p.Partition, p.EarliestOffset, p.EndOffset, queue.SettledBelow, queue.Unsettled(p.EndOffset, p.EarliestOffset));
    }
}
