namespace FaasEvents.Log.Queues;

/// <summary>The outcome of one acquired event.</summary>
/// <param name="Offset">The event's offset.</param>
/// <param name="Outcome">What happened to it.</param>
/// <param name="Backoff">For a release: how long until it may be delivered again.</param>
/// <param name="Error">For a release: why (kept in the event's delivery history, cut to <see cref="QueueBook.MaxErrorLength"/> characters).</param>
public sealed record QueueSettlement(long Offset, QueueOutcome Outcome, TimeSpan Backoff = default, string? Error = null);
