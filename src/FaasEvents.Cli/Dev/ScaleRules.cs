namespace FaasEvents.Cli.Dev;

/// <summary>KEDA + HPA rules, as a pure function so they can be tested on their own.</summary>
internal static class ScaleRules
{
    /// <summary>
    /// Replicas for a set of trigger readings: each active trigger wants ceil(metric / lagThreshold) (at least 1);
    /// the deployment gets the most any trigger wants (HPA with several metrics), capped at <paramref name="maxReplicas"/>.
    /// Going to zero waits for <paramref name="cooldown"/> since the last active reading (KEDA's cooldownPeriod), and
    /// scale-in below the current count waits the same stabilization window.
    /// </summary>
    public static int Decide(int current, IReadOnlyList<TriggerState> readings, int maxReplicas, DateTimeOffset now, DateTimeOffset lastActive, TimeSpan cooldown)
    {
        int desired = Math.Min(maxReplicas, readings.Count == 0 ? 0 : readings.Max(r => r.Desired));
        if (desired >= current)
        {
            return desired;
        }

        return now - lastActive >= cooldown ? desired : current;
    }

    public static int DesiredFor(bool active, long metric, long lagThreshold) =>
        !active ? 0 : (int)Math.Max(1, (metric + lagThreshold - 1) / lagThreshold);
}
