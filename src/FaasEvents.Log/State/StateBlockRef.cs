namespace FaasEvents.Log.State;

/// <summary>One block of a version 2 state blob, as its index names it.</summary>
/// <param name="FirstKey">The block's smallest key.</param>
/// <param name="Offset">Where the block's frame starts in the blob.</param>
/// <param name="Length">The frame's length (length and count prefix, entries, CRC).</param>
internal sealed record StateBlockRef(string FirstKey, long Offset, int Length);
