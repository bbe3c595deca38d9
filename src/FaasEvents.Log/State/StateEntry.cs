namespace FaasEvents.Log.State;

/// <summary>One key's committed value.</summary>
/// <param name="Key">The key.</param>
/// <param name="Partition">The partition holding it (the key's partition under the stream's partitioner).</param>
/// <param name="Value">The value, or null when the key is absent or deleted.</param>
/// <param name="NextOffset">The offset the partition's committed state reflects (null = nothing committed yet).</param>
public sealed record StateEntry(string Key, int Partition, BinaryData? Value, long? NextOffset);
