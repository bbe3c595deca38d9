namespace FaasEvents.Log.Queues;

/// <summary>The outcome of one acquired event.</summary>
/// <param name="Offset">The event's offset.</param>
/// <param name="Outcome">What happened to it.</param>
/// <param name="Backoff">For a release: how long until it may be delivered again.</param>
public sealed record QueueSettlement(long Offset, QueueOutcome Outcome, TimeSpan Backoff = default);
