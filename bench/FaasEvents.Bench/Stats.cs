namespace FaasEvents.Bench;

internal static class Stats
{
    /// <summary>Nearest-rank percentile (p in 0..100).</summary>
    public static double Percentile(IReadOnlyCollection<double> xs, double p)
    {
        var sorted = xs.Order().ToList();
        return sorted[(int)Math.Clamp(Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>
    /// One line on memory: bytes allocated per event and the share of the time the GC held threads, for both sides
    /// of a ratio (medians over rounds), so a ratio below its goal shows whether allocation explains it.
    /// </summary>
    public static string GcLine(IReadOnlyList<(double FnAlloc, double RawAlloc, double FnPause, double RawPause)> rounds, string fn, string raw) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Memory (median of rounds): {fn} {Percentile(rounds.Select(r => r.FnAlloc).ToList(), 50):N0} B allocated per event, GC pauses {Percentile(rounds.Select(r => r.FnPause).ToList(), 50):P0} of its time; {raw} {Percentile(rounds.Select(r => r.RawAlloc).ToList(), 50):N0} B per event, GC pauses {Percentile(rounds.Select(r => r.RawPause).ToList(), 50):P0}.");
}
