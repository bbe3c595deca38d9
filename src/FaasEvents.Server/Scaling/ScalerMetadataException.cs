namespace FaasEvents.Server.Scaling;

/// <summary>A ScaledObject trigger's metadata is invalid; the message names the key.</summary>
public sealed class ScalerMetadataException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScalerMetadataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScalerMetadataException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScalerMetadataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
