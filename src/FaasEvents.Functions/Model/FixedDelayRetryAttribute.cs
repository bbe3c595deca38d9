namespace FaasEvents.Functions;

/// <summary>Retries a failed invocation a fixed number of times with a fixed delay (as in Azure Functions).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FixedDelayRetryAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="maxRetryCount">Retries after the first failure (0 = none).</param>
    /// <param name="delayInterval">Delay between tries, as a TimeSpan string (<c>00:00:05</c>).</param>
    public FixedDelayRetryAttribute(int maxRetryCount, string delayInterval)
    {
        MaxRetryCount = maxRetryCount;
        DelayInterval = delayInterval;
    }

    /// <summary>Retries after the first failure.</summary>
    public int MaxRetryCount { get; }

    /// <summary>Delay between tries.</summary>
    public string DelayInterval { get; }
}
