namespace FaasEvents.Functions;

/// <summary>Retry strategies, as named in host.json and Azure Functions.</summary>
public enum RetryStrategy
{
    /// <summary>The same delay before every retry.</summary>
    FixedDelay,
    /// <summary>Doubling delays from a minimum up to a maximum.</summary>
    ExponentialBackoff,
}
