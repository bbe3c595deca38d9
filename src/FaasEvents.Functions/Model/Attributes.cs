namespace FaasEvents.Functions;

/// <summary>Marks a method as a function; the name is its identity (and default consumer group).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FunctionAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">Function name: 1-200 of <c>a-z A-Z 0-9 . _ -</c>.</param>
    public FunctionAttribute(string name) => Name = name;

    /// <summary>The function name.</summary>
    public string Name { get; }
}

/// <summary>
/// Triggers the function for events of a stream. The parameter may be a <c>CloudEvent</c>, <see cref="Log.LogEvent"/>,
/// <see cref="Log.StoredEvent"/>, <c>string</c>, <c>byte[]</c>, <see cref="BinaryData"/>, a POCO deserialized from JSON
/// data, or an array / <c>IReadOnlyList&lt;T&gt;</c> / <c>List&lt;T&gt;</c> of those for batches.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false)]
public sealed class EventTriggerAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="stream">The stream to consume.</param>
    public EventTriggerAttribute(string stream) => Stream = stream;

    /// <summary>The stream to consume.</summary>
    public string Stream { get; }

    /// <summary>Consumer group. <value>Default: the function name.</value></summary>
    public string? ConsumerGroup { get; set; }

    /// <summary>
    /// Name of the configuration setting (or environment variable) holding the storage connection string or
    /// blob endpoint; never the secret itself. <value>Default: <c>FAAS_STORAGE</c>.</value>
    /// </summary>
    public string? Connection { get; set; }
}

/// <summary>
/// Appends the function's return value to a stream: a <see cref="Log.LogEvent"/>, a <c>CloudEvent</c>, a string,
/// a POCO (as JSON data), or a collection of those (fan-out); null appends nothing.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class EventOutputAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="stream">The stream to append to.</param>
    public EventOutputAttribute(string stream) => Stream = stream;

    /// <summary>Target stream.</summary>
    public string Stream { get; }

    /// <summary>CloudEvents <c>type</c> for POCO and string outputs. <value>Default: <c>{function}.output</c>.</value></summary>
    public string? Type { get; set; }

    /// <summary>Storage setting name, as for <see cref="EventTriggerAttribute.Connection"/>.</summary>
    public string? Connection { get; set; }
}

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

/// <summary>
/// Makes the function a <em>materializer</em>: it folds the entity events of a stream (keyed by
/// entity id, the event's partition key) into a key/value table it owns. The function's return value is the key's
/// new state; returning null deletes the key. The simplest materializer returns the event itself (latest value
/// wins; a tombstone, an event with no data, binds as null and so deletes). The table and the offset it reflects are
/// committed together, so the table is exactly-once even though delivery is at-least-once.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false)]
public sealed class MaterializerTriggerAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="stream">The entity stream to fold.</param>
    public MaterializerTriggerAttribute(string stream) => Stream = stream;

    /// <summary>The entity stream to fold.</summary>
    public string Stream { get; }

    /// <summary>Consumer group; it also names the table's state in storage. <value>Default: the function name.</value></summary>
    public string? ConsumerGroup { get; set; }

    /// <summary>Storage setting name, as for <see cref="EventTriggerAttribute.Connection"/>.</summary>
    public string? Connection { get; set; }

    /// <summary>
    /// Publish every committed change of the table as an entity event (key = entity key, data = new state, no data =
    /// deleted) to <c>{function}.changelog</c>, so other services can materialize the same table.
    /// </summary>
    public bool Changelog { get; set; }
}

/// <summary>On a materializer parameter: receives the key's current state (null when the key is absent).</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false)]
public sealed class CurrentStateAttribute : Attribute
{
}

/// <summary>On a <c>string</c> parameter: receives the event's partition key (a materializer's entity key).</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false)]
public sealed class EntityKeyAttribute : Attribute
{
}

/// <summary>
/// Turns materializer state into bytes and back. The default writes JSON (System.Text.Json, web defaults);
/// register another implementation in <c>builder.Services</c> to replace it.
/// </summary>
public interface IStateSerializer
{
    /// <summary>Serializes a state value of type <paramref name="type"/>.</summary>
    BinaryData Serialize(object value, Type type);

    /// <summary>Deserializes a state value of type <paramref name="type"/>.</summary>
    object? Deserialize(BinaryData data, Type type);
}

/// <summary>The default state serializer: JSON with System.Text.Json's web defaults (camelCase).</summary>
public sealed class JsonStateSerializer : IStateSerializer
{
    /// <inheritdoc/>
    public BinaryData Serialize(object value, Type type) => new(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value, type, Runtime.FunctionInvoker.Json));

    /// <inheritdoc/>
    public object? Deserialize(BinaryData data, Type type)
    {
        ArgumentNullException.ThrowIfNull(data);
        return System.Text.Json.JsonSerializer.Deserialize(data.ToMemory().Span, type, Runtime.FunctionInvoker.Json);
    }
}
