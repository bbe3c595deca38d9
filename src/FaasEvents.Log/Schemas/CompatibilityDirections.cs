namespace FaasEvents.Log.Schemas;

/// <summary>
/// What every schema language's checker shares: which directions a mode checks (backward: the new schema reads the
/// old one's events; forward: the old reads the new's) and how a finding names the rule it breaks.
/// </summary>
internal static class CompatibilityDirections
{
    /// <summary>Runs <paramref name="reads"/>(reader, writer, readerIsNew, findings) for each direction of <paramref name="mode"/>.</summary>
    public static IReadOnlyList<string> Check<TSchema>(TSchema newSchema, TSchema oldSchema, CompatibilityMode mode, Action<TSchema, TSchema, bool, List<string>> reads)
    {
        var findings = new List<string>();
        if (mode is CompatibilityMode.Backward or CompatibilityMode.BackwardTransitive or CompatibilityMode.Full or CompatibilityMode.FullTransitive)
        {
            reads(newSchema, oldSchema, true, findings);
        }

        if (mode is CompatibilityMode.Forward or CompatibilityMode.ForwardTransitive or CompatibilityMode.Full or CompatibilityMode.FullTransitive)
        {
            reads(oldSchema, newSchema, false, findings);
        }

        return findings.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The rule a finding breaks, by direction.</summary>
    public static string Why(bool readerIsNew) => readerIsNew
        ? "backward compatibility requires old events to stay readable by new consumers"
        : "forward compatibility requires new events to stay readable by old consumers";
}
