namespace FaasEvents.Log.Groups;

/// <summary>The kinds of <see cref="GroupResetTarget"/>.</summary>
public enum GroupResetKind
{
    /// <summary>The oldest retained offset.</summary>
    Earliest,

    /// <summary>The end offset.</summary>
    Latest,

    /// <summary>A given offset.</summary>
    Offset,

    /// <summary>The first offset written at or after a time.</summary>
    Time,

    /// <summary>The current checkpoint moved by a number of events.</summary>
    Shift,
}
