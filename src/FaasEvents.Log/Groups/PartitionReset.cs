namespace FaasEvents.Log.Groups;

/// <summary>One partition of a reset (planned, or done): from where to where, and the lag before and after.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="From">The checkpoint before (null: none).</param>
/// <param name="To">The checkpoint after.</param>
/// <param name="LagBefore">Lag before.</param>
/// <param name="LagAfter">Lag after.</param>
/// <param name="Note">Why the target was adjusted (e.g. kept within the retained range), or null.</param>
public sealed record PartitionReset(int Partition, long? From, long To, long LagBefore, long LagAfter, string? Note);
