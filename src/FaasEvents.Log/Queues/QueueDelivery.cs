namespace FaasEvents.Log.Queues;

/// <summary>An event acquired from a partition consumed as a queue: settle it before <paramref name="LockedUntil"/>.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The event's offset.</param>
/// <param name="Deliveries">How many times it has been acquired, this time included.</param>
/// <param name="LockedUntil">When the lock ends and the event becomes available to others again.</param>
public sealed record QueueDelivery(int Partition, long Offset, int Deliveries, DateTimeOffset LockedUntil)
{
    /// <summary>The earlier deliveries that did not end in acceptance (oldest first, at most <see cref="QueueBook.MaxHistory"/>).</summary>
    public IReadOnlyList<QueueAttempt> History { get; init; } = [];
}
