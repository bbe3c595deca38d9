namespace FaasEvents.Server.Admin;

/// <summary>
/// The body of <c>POST /streams/{stream}/groups/{group}/deadletters/replay</c>: optional <c>type</c> / <c>id</c> filters,
/// <c>to</c> (another stream than the source), <c>dryRun</c>, and <c>deadLetterStream</c> when host.json names another.
/// </summary>
internal sealed record DeadLetterReplayRequest(string? Type, string? Id, string? To, bool DryRun, string? DeadLetterStream);
