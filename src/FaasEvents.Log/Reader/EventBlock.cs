using FaasEvents.Log.Events;

namespace FaasEvents.Log.Reader;

/// <summary>The events of one stored batch (after the start offset), with where the batch starts and ends.</summary>
/// <param name="Events">Events in offset order.</param>
/// <param name="Start">Position of the batch.</param>
/// <param name="End">Position just after it (the next batch, if any).</param>
public sealed record EventBlock(IReadOnlyList<StoredEvent> Events, LogPosition Start, LogPosition End);
