namespace FaasEvents.Log.Events;

/// <summary>An event as read back from a partition, with its position.</summary>
/// <param name="Partition">The partition it was read from.</param>
/// <param name="Offset">Its offset within the partition.</param>
/// <param name="Timestamp">When the producer handed it to the log (produce time).</param>
/// <param name="Event">The event itself.</param>
public sealed record StoredEvent(int Partition, long Offset, DateTimeOffset Timestamp, LogEvent Event)
{
    /// <summary>Its writer and sequence when it was written sequenced (function outputs, dead letters, changelogs, producers with a stable id); null otherwise.</summary>
    public WriterMark? Mark { get; init; }
}
