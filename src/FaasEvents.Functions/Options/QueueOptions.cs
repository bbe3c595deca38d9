using System.Globalization;

namespace FaasEvents.Functions;

/// <summary><c>extensions.eventLog.queue</c> of host.json: how functions with queue consumption take and acknowledge events.</summary>
public sealed class QueueOptions
{
    /// <summary>Shortest and longest <see cref="LockDuration"/>.</summary>
    public static readonly (TimeSpan Min, TimeSpan Max) LockDurationRange = (TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));

    /// <summary>How long an acquired event stays locked to its instance (renewable with <see cref="FunctionContext.RenewLockAsync"/>). <value>Default: 30 s.</value></summary>
    public TimeSpan LockDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Deliveries of an event before it is dead-lettered with its delivery history. <value>Default: 5.</value></summary>
    public int MaxDeliveryCount { get; set; } = 5;

    /// <summary>Most events one instance handles at once, per queue function (Azure Functions' <c>maxConcurrentCalls</c>). <value>Default: 16.</value></summary>
    public int MaxConcurrentCalls { get; set; } = 16;

    /// <summary>Most events in flight or settled out of order above a partition's settled offset (bounds the state kept per partition). <value>Default: 1000.</value></summary>
    public int Window { get; set; } = 1000;

    /// <summary>Every problem, one line each, named by its key under <c>queue</c>.</summary>
    internal IEnumerable<string> Validate()
    {
        if (LockDuration < LockDurationRange.Min || LockDuration > LockDurationRange.Max)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"queue.lockDuration: '{LockDuration}' must be a time span between {LockDurationRange.Min} and {LockDurationRange.Max} (write e.g. 00:00:30)");
        }

        if (MaxDeliveryCount is < 1 or > 1000)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"queue.maxDeliveryCount: must be an integer between 1 and 1000 (was {MaxDeliveryCount})");
        }

        if (MaxConcurrentCalls is < 1 or > 1000)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"queue.maxConcurrentCalls: must be an integer between 1 and 1000 (was {MaxConcurrentCalls})");
        }

        if (Window is < 10 or > 100_000 || Window < MaxConcurrentCalls)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"queue.window: must be an integer between 10 and 100000 and at least maxConcurrentCalls (was {Window})");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"lockDuration={LockDuration}, maxDeliveryCount={MaxDeliveryCount}, maxConcurrentCalls={MaxConcurrentCalls}, window={Window}");
}
