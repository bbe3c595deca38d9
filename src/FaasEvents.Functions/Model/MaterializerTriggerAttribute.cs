namespace FaasEvents.Functions;

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
