using Azure;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Schemas;

/// <summary>A producer's view of a stream's contract: its latest schema version and its owner, as of one listing.</summary>
internal sealed record ContractView(StreamDefinition For, StreamSchema? Schema, string? Owner, ETag? OwnerTag);
