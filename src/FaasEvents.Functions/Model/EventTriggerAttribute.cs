namespace FaasEvents.Functions;

/// <summary>
/// Triggers the function for events of a stream. The parameter may be a <c>CloudEvent</c>, <see cref="Log.Events.LogEvent"/>,
/// <see cref="Log.Events.StoredEvent"/>, <c>string</c>, <c>byte[]</c>, <see cref="BinaryData"/>, a POCO deserialized from JSON
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

    /// <summary>
    /// Consume the stream as an event stream (partitions owned, offset order) or as a queue (events locked and
    /// acknowledged one by one by any number of instances, no order). <value>Default: <see cref="Consumption.Stream"/>.</value>
    /// </summary>
    public Consumption Mode { get; set; } = Consumption.Stream;
}
