namespace FaasEvents.Log.Reader;

/// <summary>Kinds of <see cref="StartPosition"/>.</summary>
public enum StartKind
{
    /// <summary>First retained event.</summary>
    Earliest,
    /// <summary>End of the partition.</summary>
    Latest,
    /// <summary>A given offset.</summary>
    Offset,
    /// <summary>A produce time.</summary>
    Time,
}
