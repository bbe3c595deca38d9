namespace FaasEvents.Log;

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
