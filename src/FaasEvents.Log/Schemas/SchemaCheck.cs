namespace FaasEvents.Log.Schemas;

/// <summary>Whether a schema would be accepted by a stream, and why not.</summary>
/// <param name="Mode">The stream's compatibility mode.</param>
/// <param name="Against">The versions it was checked against (the latest, or all for transitive modes; none for the first schema or mode none).</param>
/// <param name="Problems">One line per problem (path, change, rule); empty when it would be accepted.</param>
/// <param name="SameAs">The version it is identical to, if any (registering it again returns that version).</param>
public sealed record SchemaCheck(CompatibilityMode Mode, IReadOnlyList<int> Against, IReadOnlyList<string> Problems, int? SameAs)
{
    /// <summary>True when registering it would succeed.</summary>
    public bool Compatible => Problems.Count == 0;
}
