namespace FaasEvents.Log.State;

/// <summary>A partition's materialized table as restored from storage.</summary>
/// <param name="Table">Key → value.</param>
/// <param name="NextOffset">The offset the table reflects (events before it are folded in); null when nothing was committed.</param>
/// <param name="ChainLength">State blobs read to rebuild it (1 right after a full snapshot).</param>
public sealed record RestoredState(Dictionary<string, BinaryData> Table, long? NextOffset, int ChainLength);
