namespace FaasEvents.Log.Retry;

/// <summary>The one backoff formula every retry loop uses: exponential from a first delay, capped, with optional jitter.</summary>
public static class Backoff
{
    /// <summary>
    /// The delay before try <paramref name="attempt"/>'s successor: <paramref name="first"/> for attempt 1, doubling
    /// with each attempt, never above <paramref name="max"/>.
    /// </summary>
    public static TimeSpan Exponential(int attempt, TimeSpan first, TimeSpan max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        double ticks = first.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30));
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>A random delay in [0, <paramref name="delay"/>) ("full jitter"), so contenders spread out.</summary>
    public static TimeSpan FullJitter(TimeSpan delay, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return delay <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(random.NextInt64(delay.Ticks));
    }

    /// <summary><paramref name="delay"/> plus a random amount in [0, <paramref name="jitter"/>).</summary>
    public static TimeSpan WithJitter(TimeSpan delay, TimeSpan jitter, Random random) => delay + FullJitter(jitter, random);
}
