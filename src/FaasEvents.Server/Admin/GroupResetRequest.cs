namespace FaasEvents.Server.Admin;

/// <summary>
/// The body of <c>POST /streams/{stream}/groups/{group}/reset</c>: exactly one of <c>to</c> (<c>earliest</c> or
/// <c>latest</c>), <c>offset</c>, <c>time</c> (ISO 8601) and <c>shiftBy</c>; optionally one <c>partition</c>,
/// <c>dryRun</c> (only say what would change) and <c>force</c> (fence the instances holding partitions).
/// </summary>
internal sealed record GroupResetRequest(string? To, long? Offset, string? Time, long? ShiftBy, int? Partition, bool DryRun, bool Force);
