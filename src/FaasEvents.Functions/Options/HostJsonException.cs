namespace FaasEvents.Functions;

/// <summary>host.json is invalid; the message names the key and the reason.</summary>
public sealed class HostJsonException : FunctionsException
{
    /// <summary>Creates the exception.</summary>
    public HostJsonException(string message)
        : base(FunctionsErrorReason.InvalidHostJson, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public HostJsonException()
        : base(FunctionsErrorReason.InvalidHostJson, "host.json is invalid.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public HostJsonException(string message, Exception innerException)
        : base(FunctionsErrorReason.InvalidHostJson, message, innerException)
    {
    }
}
