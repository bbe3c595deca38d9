using FaasEvents.Log.Events;

namespace FaasEvents.Log;

/// <summary>Why an event log operation failed.</summary>
public enum EventLogErrorReason
{
    /// <summary>An argument or setting is invalid; fix the input.</summary>
    InvalidArgument,
    /// <summary>The stream does not exist.</summary>
    StreamNotFound,
    /// <summary>A stream with that name already exists.</summary>
    StreamAlreadyExists,
    /// <summary>The event is larger than <see cref="LogEvent.MaxEncodedSize"/>.</summary>
    EventTooLarge,
    /// <summary>The requested offset is below the first retained offset or beyond the end.</summary>
    OffsetOutOfRange,
    /// <summary>Stored bytes failed their checksum or are not in the expected format.</summary>
    CorruptData,
    /// <summary>A partition lease is held by someone else, or was lost.</summary>
    LeaseLost,
    /// <summary>The storage service failed; retrying later may succeed.</summary>
    StorageFailure,
    /// <summary>Blobs of an earlier stream of that name remain (an interrupted delete); delete the stream to remove them.</summary>
    LeftoverData,
    /// <summary>The consumer group has no checkpoints on the stream (a wrong name, or it never ran).</summary>
    GroupNotFound,
    /// <summary>Instances hold partitions of the consumer group; stop them, or fence them (force) to change it.</summary>
    GroupInUse,
    /// <summary>A schema cannot be read (not JSON, an unknown type, a reference outside the document).</summary>
    InvalidSchema,
    /// <summary>A schema breaks the stream's compatibility mode; the message names each field and rule.</summary>
    IncompatibleSchema,
    /// <summary>An event does not match its stream's schema; the message names each path and rule. Nothing of its batch was written.</summary>
    SchemaViolation,
    /// <summary>The stream has an owner and the appender is someone else (single writer); the message names both and how to transfer ownership.</summary>
    NotStreamOwner,
}
