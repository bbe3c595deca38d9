namespace FaasEvents.Bench;

internal static class Stats
{
    /// <summary>Nearest-rank percentile (p in 0..100).</summary>
    public static double Percentile(IReadOnlyCollection<double> xs, double p)
    {
        var sorted = xs.Order().ToList();
        return sorted[(int)Math.Clamp(Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
