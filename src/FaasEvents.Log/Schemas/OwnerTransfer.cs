namespace FaasEvents.Log.Schemas;

/// <summary>One change of a stream's owner.</summary>
/// <param name="From">The previous owner (null: the stream had none).</param>
/// <param name="To">The new owner (null: the rule was lifted).</param>
/// <param name="At">When.</param>
/// <param name="By">Who made the change, as they said (an operator, a pipeline).</param>
public sealed record OwnerTransfer(string? From, string? To, DateTimeOffset At, string By);
