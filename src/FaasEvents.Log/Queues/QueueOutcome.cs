namespace FaasEvents.Log.Queues;

/// <summary>How an acquired event ends: accepted (handled), released (later, after a backoff) or rejected (dead-lettered).</summary>
public enum QueueOutcome
{
    /// <summary>Handled: never delivered again.</summary>
    Accepted,

    /// <summary>A transient failure: available again after the backoff, its delivery count kept.</summary>
    Released,

    /// <summary>Given up (dead-lettered by the caller): never delivered again.</summary>
    Rejected,

    /// <summary>Given back without being handled (never started: prefetched by an instance that stopped, or not readable): available again at once, and this delivery does not count.</summary>
    Returned,
}
