namespace FaasEvents.Log.Events;

/// <summary>
/// One event in a stream: the CloudEvents 1.0 context attributes, an optional partition key, and data as bytes.
/// </summary>
/// <remarks>
/// Unkeyed events leave <see cref="PartitionKey"/> null. Keyed and entity events carry the entity id as the key.
/// On an entity stream an event whose <see cref="Data"/> is null is a tombstone: it deletes the key.
/// </remarks>
public sealed class LogEvent
{
    /// <summary>The CloudEvents spec version this type implements.</summary>
    public const string CloudEventsSpecVersion = "1.0";

    /// <summary>The largest encoded event (attributes, key and data) a stream accepts: 1 MiB.</summary>
    public const int MaxEncodedSize = 1024 * 1024;

    /// <summary>
    /// The event's encoded size in bytes (attributes, extensions, key and data) as a stream would store it; a stream
    /// refuses events over <see cref="MaxEncodedSize"/>.
    /// </summary>
    public long EncodedSize => Format.EventCodec.Measure(this);

    /// <summary>
    /// Throws the <see cref="EventLogException"/> an append of this event would throw for the event itself (an invalid
    /// attribute or id, or more than <see cref="MaxEncodedSize"/> encoded), without writing anything.
    /// </summary>
    public void CheckWritable()
    {
        Format.EventCodec.Validate(this);
        long size = EncodedSize;
        if (size > MaxEncodedSize)
        {
            throw new EventLogException(EventLogErrorReason.EventTooLarge, $"Event '{Id}' is {size:N0} bytes encoded; the limit is {MaxEncodedSize:N0} bytes (1 MiB). Nothing was written.");
        }
    }

    /// <summary>Creates an event with the required CloudEvents attributes.</summary>
    /// <param name="id">Unique id within the scope of <paramref name="source"/>.</param>
    /// <param name="source">URI-reference identifying the context in which the event happened.</param>
    /// <param name="type">Type of the event, e.g. <c>com.example.order.created</c>.</param>
    public LogEvent(string id, string source, string type)
    {
        Id = id;
        Source = source;
        Type = type;
    }

    /// <summary>CloudEvents <c>id</c>.</summary>
    public string Id { get; set; }

    /// <summary>CloudEvents <c>source</c> (a URI-reference).</summary>
    public string Source { get; set; }

    /// <summary>CloudEvents <c>type</c>.</summary>
    public string Type { get; set; }

    /// <summary>CloudEvents <c>specversion</c>; always <c>1.0</c>.</summary>
    public string SpecVersion => CloudEventsSpecVersion;

    /// <summary>CloudEvents <c>time</c>: when the occurrence happened, if known.</summary>
    public DateTimeOffset? Time { get; set; }

    /// <summary>CloudEvents <c>subject</c>.</summary>
    public string? Subject { get; set; }

    /// <summary>CloudEvents <c>datacontenttype</c>, e.g. <c>application/json</c>.</summary>
    public string? DataContentType { get; set; }

    /// <summary>CloudEvents <c>dataschema</c> (a URI).</summary>
    public string? DataSchema { get; set; }

    /// <summary>
    /// Extension attributes. Values must be of a CloudEvents type: <see cref="string"/>, <see cref="bool"/>,
    /// <see cref="int"/>, <see cref="byte"/>[] (binary), <see cref="Uri"/> or <see cref="DateTimeOffset"/>.
    /// The partitioning extension <c>partitionkey</c> is not kept here: it is <see cref="PartitionKey"/>.
    /// </summary>
    public IDictionary<string, object> Extensions => extensions ??= new Dictionary<string, object>(StringComparer.Ordinal);

    /// <summary>How many extension attributes the event has, without making the dictionary of an event that has none.</summary>
    internal int ExtensionCount => extensions?.Count ?? 0;

    private Dictionary<string, object>? extensions; // made on first use: most events read from a stream have no extensions

    /// <summary>The extension <paramref name="name"/>'s value, without making the dictionary of an event that has none.</summary>
    internal bool TryGetExtension(string name, out object? value)
    {
        value = null;
        return extensions is not null && extensions.TryGetValue(name, out value);
    }

    /// <summary>The partition key (entity id for entity streams); null for unkeyed events.</summary>
    public string? PartitionKey { get; set; }

    /// <summary>The event data; null means no data (a tombstone on an entity stream).</summary>
    public BinaryData? Data { get; set; }

    /// <summary>True when this event has no data: on an entity stream it deletes <see cref="PartitionKey"/>.</summary>
    public bool IsTombstone => Data is null;
}
