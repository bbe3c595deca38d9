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
}

/// <summary>The one exception type the event log throws; <see cref="Reason"/> says what went wrong.</summary>
public sealed class EventLogException : Exception
{
    /// <summary>Creates an exception.</summary>
    public EventLogException(EventLogErrorReason reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>Creates an exception with reason <see cref="EventLogErrorReason.StorageFailure"/>.</summary>
    public EventLogException()
        : this(EventLogErrorReason.StorageFailure, "Event log operation failed.")
    {
    }

    /// <summary>Creates an exception with reason <see cref="EventLogErrorReason.StorageFailure"/>.</summary>
    public EventLogException(string message)
        : this(EventLogErrorReason.StorageFailure, message)
    {
    }

    /// <summary>Creates an exception with reason <see cref="EventLogErrorReason.StorageFailure"/>.</summary>
    public EventLogException(string message, Exception innerException)
        : this(EventLogErrorReason.StorageFailure, message, innerException)
    {
    }

    /// <summary>What went wrong.</summary>
    public EventLogErrorReason Reason { get; }

    /// <summary>
    /// For a failed append: true when an attempt may still have landed (the outcome is unknown; if it landed, its
    /// events are in the log once), false when none of its events was written.
    /// </summary>
    public bool MayHaveBeenWritten { get; init; }

    /// <summary>True when the same call may succeed if retried later.</summary>
    public bool IsTransient => Reason is EventLogErrorReason.StorageFailure or EventLogErrorReason.LeaseLost;
}
