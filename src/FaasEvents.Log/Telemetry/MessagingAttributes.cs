namespace FaasEvents.Log.Telemetry;

/// <summary>
/// Attribute names of the OpenTelemetry messaging semantic conventions (and this system's own, named like Kafka's
/// <c>messaging.kafka.*</c>), used on spans and metrics alike so they can be joined.
/// </summary>
public static class MessagingAttributes
{
    /// <summary><c>messaging.system</c>: always <see cref="FaasTelemetry.MessagingSystem"/>.</summary>
    public const string System = "messaging.system";

    /// <summary><c>messaging.operation.name</c>: send, process, checkpoint.</summary>
    public const string OperationName = "messaging.operation.name";

    /// <summary><c>messaging.operation.type</c>: send, process, settle.</summary>
    public const string OperationType = "messaging.operation.type";

    /// <summary><c>messaging.destination.name</c>: the stream.</summary>
    public const string DestinationName = "messaging.destination.name";

    /// <summary><c>messaging.destination.partition.id</c>: the partition, as a string.</summary>
    public const string PartitionId = "messaging.destination.partition.id";

    /// <summary><c>messaging.consumer.group.name</c>.</summary>
    public const string ConsumerGroup = "messaging.consumer.group.name";

    /// <summary><c>messaging.message.id</c>: the CloudEvents id (single-event operations only).</summary>
    public const string MessageId = "messaging.message.id";

    /// <summary><c>messaging.batch.message_count</c>: events in a batch operation (set when above one).</summary>
    public const string BatchMessageCount = "messaging.batch.message_count";

    /// <summary><c>messaging.faasevents.offset</c>: the (first) event's offset in its partition.</summary>
    public const string Offset = "messaging.faasevents.offset";

    /// <summary><c>messaging.faasevents.message.key</c>: the partition key (entity id), when there is one.</summary>
    public const string MessageKey = "messaging.faasevents.message.key";

    /// <summary><c>messaging.faasevents.message.tombstone</c>: true for an entity delete (no data).</summary>
    public const string Tombstone = "messaging.faasevents.message.tombstone";

    /// <summary><c>faas.name</c> (OpenTelemetry FaaS conventions): the function.</summary>
    public const string FunctionName = "faas.name";

    /// <summary><c>error.type</c>: the exception type of a failed operation.</summary>
    public const string ErrorType = "error.type";
}
