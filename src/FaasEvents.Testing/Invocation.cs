using FaasEvents.Log.Events;

namespace FaasEvents.Testing;

/// <summary>One attempt to run a function, as <see cref="FunctionTestHost"/> saw it (retries are separate attempts).</summary>
/// <param name="Function">The function's name.</param>
/// <param name="Partition">The trigger stream's partition.</param>
/// <param name="Events">The events the attempt was given (one for a per-event handler).</param>
/// <param name="RetryAttempt">0 for the first attempt, then 1, 2, ...</param>
/// <param name="Error">What the attempt threw; null when it succeeded.</param>
public sealed record Invocation(string Function, int Partition, IReadOnlyList<StoredEvent> Events, int RetryAttempt, Exception? Error)
{
    /// <summary>True when the attempt returned without throwing.</summary>
    public bool Succeeded => Error is null;
}
