namespace FaasEvents.Functions;

/// <summary>Retries a failed invocation with exponentially growing delays (as in Azure Functions).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ExponentialBackoffRetryAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    public ExponentialBackoffRetryAttribute(int maxRetryCount, string minimumInterval, string maximumInterval)
    {
        MaxRetryCount = maxRetryCount;
        MinimumInterval = minimumInterval;
        MaximumInterval = maximumInterval;
    }

    /// <summary>Retries after the first failure.</summary>
    public int MaxRetryCount { get; }

    /// <summary>First delay.</summary>
    public string MinimumInterval { get; }

    /// <summary>Largest delay.</summary>
    public string MaximumInterval { get; }
}
