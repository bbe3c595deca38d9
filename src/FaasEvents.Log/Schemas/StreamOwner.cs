namespace FaasEvents.Log.Schemas;

/// <summary>A stream's single writer and how ownership moved.</summary>
/// <param name="Stream">The stream.</param>
/// <param name="Owner">The only producer identity allowed to append.</param>
/// <param name="Since">When it became the owner.</param>
/// <param name="History">Every transfer, oldest first (the first entry has no previous owner).</param>
public sealed record StreamOwner(string Stream, string Owner, DateTimeOffset Since, IReadOnlyList<OwnerTransfer> History);
