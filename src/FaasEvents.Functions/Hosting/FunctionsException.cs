namespace FaasEvents.Functions;

/// <summary>
/// The base of every exception the functions layer throws itself, with <see cref="Reason"/> saying what went wrong
/// (failures of the log underneath stay <see cref="Log.EventLogException"/>). Catch this to handle them all.
/// </summary>
public abstract class FunctionsException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected FunctionsException(FunctionsErrorReason reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>What went wrong.</summary>
    public FunctionsErrorReason Reason { get; }
}
