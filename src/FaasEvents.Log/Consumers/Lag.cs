namespace FaasEvents.Log.Consumers;

/// <summary>Where a consumer group without a checkpoint starts reading.</summary>
public enum InitialOffset
{
    /// <summary>At the earliest retained event: everything in the partition is lag.</summary>
    Earliest,
    /// <summary>At the end: only events appended after the group starts are lag.</summary>
    Latest,
}
