namespace FaasEvents.Log.Queues;

/// <summary>A partition queue's state.</summary>
/// <param name="SettledBelow">Every event below this offset is settled.</param>
/// <param name="InFlight">Events acquired (or released and waiting for their backoff) above it.</param>
/// <param name="SettledAbove">Events above it settled out of order.</param>
public sealed record QueueState(long SettledBelow, IReadOnlyList<QueueInFlight> InFlight, IReadOnlyList<long> SettledAbove);
