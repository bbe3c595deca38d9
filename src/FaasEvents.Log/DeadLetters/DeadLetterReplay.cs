namespace FaasEvents.Log.DeadLetters;

/// <summary>What a replay did with one dead letter.</summary>
/// <param name="Id">The event's id.</param>
/// <param name="From">The dead letter (<c>{stream}/{partition}/{offset}</c>).</param>
/// <param name="To">Where it was appended (<c>{stream}/{partition}/{offset}</c>), or null when it was not.</param>
/// <param name="Note">Why it was not appended, or null.</param>
public sealed record DeadLetterReplay(string Id, string From, string? To, string? Note);
