namespace FaasEvents.Log.Queues;

/// <summary>What one change of a partition queue did.</summary>
/// <param name="Lost">Offsets whose settlement was not applied: the caller's lock had expired (someone else may have them).</param>
/// <param name="Acquired">Events acquired by the change.</param>
public sealed record QueueUpdate(IReadOnlyList<long> Lost, IReadOnlyList<QueueDelivery> Acquired)
{
    /// <summary>When the first event in flight (held by a lock, or released and waiting for its backoff) becomes available; now or earlier when one is available already (null: none in flight).</summary>
    public DateTimeOffset? NextAvailableAt { get; init; }

    /// <summary>True when the window above the settled offset is full: nothing past it can be taken until earlier events settle.</summary>
    public bool Window { get; init; }

    /// <summary>Every event below the settled offset is settled.</summary>
    public long SettledBelow { get; init; }

    /// <summary>True when the counts the round carried were added to the queue's (the round changed it).</summary>
    public bool Counted { get; init; }
}
