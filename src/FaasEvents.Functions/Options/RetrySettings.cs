using System.Globalization;
using System.Reflection;
using FaasEvents.Log.Retry;

namespace FaasEvents.Functions;

/// <summary>A retry policy for failed invocations.</summary>
/// <param name="Strategy">Strategy.</param>
/// <param name="MaxRetryCount">Retries after the first failure (0 = none).</param>
/// <param name="DelayInterval">Fixed delay.</param>
/// <param name="MinimumInterval">First exponential delay.</param>
/// <param name="MaximumInterval">Largest exponential delay.</param>
public sealed record RetrySettings(RetryStrategy Strategy, int MaxRetryCount, TimeSpan DelayInterval, TimeSpan MinimumInterval, TimeSpan MaximumInterval)
{
    /// <summary>The default: 3 retries, 1 second apart.</summary>
    public static RetrySettings Default { get; } = Fixed(3, TimeSpan.FromSeconds(1));

    /// <summary>A fixed-delay policy.</summary>
    public static RetrySettings Fixed(int maxRetryCount, TimeSpan delay) => new(RetryStrategy.FixedDelay, maxRetryCount, delay, delay, delay);

    /// <summary>An exponential-backoff policy.</summary>
    public static RetrySettings Exponential(int maxRetryCount, TimeSpan minimum, TimeSpan maximum) => new(RetryStrategy.ExponentialBackoff, maxRetryCount, minimum, minimum, maximum);

    /// <summary>Delay before retry number <paramref name="retry"/> (1 = first retry).</summary>
    public TimeSpan GetDelay(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        if (Strategy == RetryStrategy.FixedDelay)
        {
            return DelayInterval;
        }

        return Backoff.Exponential(retry, MinimumInterval, MaximumInterval);
    }

    /// <inheritdoc/>
    public override string ToString() => Strategy == RetryStrategy.FixedDelay
        ? $"fixedDelay (maxRetryCount {MaxRetryCount}, delayInterval {DelayInterval})"
        : $"exponentialBackoff (maxRetryCount {MaxRetryCount}, minimumInterval {MinimumInterval}, maximumInterval {MaximumInterval})";

    internal static RetrySettings? FromAttributes(MethodInfo method)
    {
        FixedDelayRetryAttribute? f = method.GetCustomAttribute<FixedDelayRetryAttribute>();
        ExponentialBackoffRetryAttribute? e = method.GetCustomAttribute<ExponentialBackoffRetryAttribute>();
        string where = FunctionDiscovery.Where(method);
        if (f is not null && e is not null)
        {
            throw new FormatException($"{where}: has both [FixedDelayRetry] and [ExponentialBackoffRetry]; choose one");
        }

        if (f is not null)
        {
            return Validate(Fixed(f.MaxRetryCount, ParseInterval(f.DelayInterval, $"{where}: [FixedDelayRetry] delayInterval")), where);
        }

        if (e is not null)
        {
            return Validate(Exponential(e.MaxRetryCount, ParseInterval(e.MinimumInterval, $"{where}: [ExponentialBackoffRetry] minimumInterval"), ParseInterval(e.MaximumInterval, $"{where}: [ExponentialBackoffRetry] maximumInterval")), where);
        }

        return null;
    }

    internal static RetrySettings Validate(RetrySettings r, string where)
    {
        if (r.MaxRetryCount is < 0 or > 1000)
        {
            throw new FormatException($"{where}: maxRetryCount must be between 0 and 1000 (was {r.MaxRetryCount})");
        }

        if (r.MinimumInterval > r.MaximumInterval)
        {
            throw new FormatException($"{where}: minimumInterval {r.MinimumInterval} is greater than maximumInterval {r.MaximumInterval}");
        }

        return r;
    }

    internal static TimeSpan ParseInterval(string? text, string where)
    {
        if (text is null || !TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan t) || t < TimeSpan.Zero || t > TimeSpan.FromDays(1))
        {
            throw new FormatException($"{where}: '{text}' is not a time span between 00:00:00 and 1.00:00:00 (write e.g. 00:00:05)");
        }

        return t;
    }
}
