using FaasEvents.Log.Events;

namespace FaasEvents.Log.DeadLetters;

/// <summary>One dead letter: where it is, the event it stands for, and why it failed.</summary>
/// <param name="Partition">Its partition in the dead-letter stream.</param>
/// <param name="Offset">Its offset in the dead-letter stream.</param>
/// <param name="Id">The original event's id.</param>
/// <param name="Type">The original event's type.</param>
/// <param name="Key">The original event's partition key.</param>
/// <param name="Error">The last error.</param>
/// <param name="Attempts">Tries before it was dead-lettered.</param>
/// <param name="SourceStream">The stream it was read from.</param>
/// <param name="SourcePartition">Its partition there.</param>
/// <param name="SourceOffset">Its offset there.</param>
/// <param name="Omitted">What the dead letter left out to fit the size limit (read back from the source when replayed), or null.</param>
/// <param name="Event">The stored dead letter itself.</param>
public sealed record DeadLetter(int Partition, long Offset, string Id, string Type, string? Key, string Error, int Attempts, string SourceStream, int SourcePartition, long SourceOffset, string? Omitted, StoredEvent Event);
