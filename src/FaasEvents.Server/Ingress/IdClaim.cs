using FaasEvents.Log.Events;

namespace FaasEvents.Server.Ingress;

/// <summary>
/// The answer of <see cref="StreamIdWindow.Claim"/> for one (source, id): already written at <see cref="Known"/>;
/// being written by another request (<see cref="Pending"/>: its position, or null if that write failed); written with
/// an unknown outcome at <see cref="UncertainSince"/> (look in the log); or none of these: the caller now owns it.
/// </summary>
internal readonly record struct IdClaim(EventPosition? Known, Task<EventPosition?>? Pending, DateTimeOffset? UncertainSince)
{
    /// <summary>The caller owns the id: it must write the event and then <see cref="StreamIdWindow.Complete"/> it.</summary>
    public bool Mine => Known is null && Pending is null && UncertainSince is null;
}
