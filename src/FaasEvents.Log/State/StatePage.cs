namespace FaasEvents.Log.State;

/// <summary>A page of a key scan, in ordinal key order.</summary>
/// <param name="Items">Keys and values.</param>
/// <param name="Next">Pass as <c>after</c> to get the next page; null on the last page.</param>
public sealed record StatePage(IReadOnlyList<KeyValuePair<string, BinaryData>> Items, string? Next);
