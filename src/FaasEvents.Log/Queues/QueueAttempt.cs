namespace FaasEvents.Log.Queues;

/// <summary>One delivery of a queued event that did not end in acceptance: who had it, when it ended, and how.</summary>
/// <param name="Owner">The instance that held it.</param>
/// <param name="At">When the delivery ended (released, or its lock found expired).</param>
/// <param name="Outcome">What happened: the handler's error, or "lock expired".</param>
public sealed record QueueAttempt(string Owner, DateTimeOffset At, string Outcome);
