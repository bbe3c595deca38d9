namespace FaasEvents.Log.Schemas;

/// <summary>
/// Which schema changes a stream accepts, with the meanings the Confluent Schema Registry documents: backward (new
/// consumers read old events), forward (old consumers read new events), full (both); transitive modes check against
/// every earlier version instead of the latest only; none checks nothing.
/// </summary>
public enum CompatibilityMode
{
    /// <summary>A consumer built on the new schema reads events written with the latest one (the default).</summary>
    Backward,

    /// <summary>As <see cref="Backward"/>, against every registered version.</summary>
    BackwardTransitive,

    /// <summary>A consumer built on the latest schema reads events written with the new one.</summary>
    Forward,

    /// <summary>As <see cref="Forward"/>, against every registered version.</summary>
    ForwardTransitive,

    /// <summary>Both <see cref="Backward"/> and <see cref="Forward"/> against the latest version.</summary>
    Full,

    /// <summary>Both, against every registered version.</summary>
    FullTransitive,

    /// <summary>Any schema is accepted.</summary>
    None,
}
