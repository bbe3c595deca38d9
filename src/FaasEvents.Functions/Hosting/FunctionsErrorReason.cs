namespace FaasEvents.Functions;

/// <summary>Why the functions runtime refused or failed something.</summary>
public enum FunctionsErrorReason
{
    /// <summary>host.json (or options set in code) is invalid; the message names the key.</summary>
    InvalidHostJson,
    /// <summary>The app's functions cannot be indexed or started (signatures, missing services, streams); the message lists every problem.</summary>
    Indexing,
    /// <summary>An entity event without a key reached a materializer.</summary>
    UnkeyedEntity,
}
