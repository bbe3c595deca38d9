namespace FaasEvents.Functions.Runtime;

/// <summary>An entity event without a key reached a materializer: retrying cannot help, so it is dead-lettered at once.</summary>
internal sealed class UnkeyedEntityException : FunctionsException
{
    public UnkeyedEntityException(string message)
        : base(FunctionsErrorReason.UnkeyedEntity, message)
    {
    }

    public UnkeyedEntityException()
        : base(FunctionsErrorReason.UnkeyedEntity, "An entity event without a key reached a materializer.")
    {
    }

    public UnkeyedEntityException(string message, Exception innerException)
        : base(FunctionsErrorReason.UnkeyedEntity, message, innerException)
    {
    }
}
