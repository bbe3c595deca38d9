namespace FaasEvents.Log.Streams;

/// <summary>What a stream holds.</summary>
public enum StreamKind
{
    /// <summary>Plain events (unkeyed or keyed); every event matters.</summary>
    Events,
    /// <summary>Entity events keyed by entity id: the newest per key wins, null data is a tombstone.</summary>
    Entities,
}
