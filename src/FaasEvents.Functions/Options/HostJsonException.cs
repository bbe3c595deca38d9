namespace FaasEvents.Functions;

/// <summary>host.json is invalid; the message names the key and the reason.</summary>
public sealed class HostJsonException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HostJsonException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public HostJsonException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public HostJsonException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
