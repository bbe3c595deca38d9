namespace FaasEvents.Log.Queues;

/// <summary>An event in flight.</summary>
/// <param name="Offset">Its offset.</param>
/// <param name="Owner">The instance holding its lock; null for a released event waiting for its backoff.</param>
/// <param name="LockedUntil">When the lock ends.</param>
/// <param name="Deliveries">How many times it has been acquired.</param>
/// <param name="VisibleAt">For a released event: when it may be acquired again.</param>
public sealed record QueueInFlight(long Offset, string? Owner, DateTimeOffset LockedUntil, int Deliveries, DateTimeOffset VisibleAt)
{
    /// <summary>Its earlier deliveries that did not end in acceptance.</summary>
    public IReadOnlyList<QueueAttempt> History { get; init; } = [];
}
