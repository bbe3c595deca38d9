using System.Globalization;
using System.Text.RegularExpressions;

namespace FaasEvents.TestSupport;

/// <summary>Reads samples out of a Prometheus text exposition (what <c>/metrics</c> serves), whatever the label order.</summary>
public static partial class PrometheusText
{
    /// <summary>The value of the first sample of <paramref name="metric"/> whose labels include <paramref name="labels"/>; null if none.</summary>
    public static double? Value(string text, string metric, params (string Name, string Value)[] labels) =>
        Samples(text, metric, labels).Select(v => (double?)v).FirstOrDefault();

    /// <summary>The sum of every sample of <paramref name="metric"/> whose labels include <paramref name="labels"/> (e.g. over partitions); null if none.</summary>
    public static double? Sum(string text, string metric, params (string Name, string Value)[] labels) =>
        Samples(text, metric, labels).ToList() is { Count: > 0 } values ? values.Sum() : null;

    private static IEnumerable<double> Samples(string text, string metric, (string Name, string Value)[] labels)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (string line in text.Split('\n'))
        {
            Match m = Sample().Match(line);
            if (!m.Success || m.Groups["name"].Value != metric)
            {
                continue;
            }

            Dictionary<string, string> have = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["k"].Value, l => l.Groups["v"].Value);
            if (labels.All(l => have.TryGetValue(l.Name, out string? v) && v == l.Value))
            {
                yield return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>Every metric name with at least one sample.</summary>
    public static IReadOnlySet<string> Names(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split('\n').Select(l => Sample().Match(l)).Where(m => m.Success).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>[-+0-9.eEInfNa]+)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
