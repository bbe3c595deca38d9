using FaasEvents.Log.Reader;

namespace FaasEvents.Log.Consumers;

/// <summary>A consumer group's position in one partition.</summary>
/// <param name="Group">Consumer group.</param>
/// <param name="Stream">Stream.</param>
/// <param name="Partition">Partition.</param>
/// <param name="NextOffset">The next offset the group will read.</param>
/// <param name="UpdatedAt">When it was last written.</param>
/// <param name="Position">Where the batch holding <paramref name="NextOffset"/> starts, if the writer knew (a resume hint).</param>
public sealed record Checkpoint(string Group, string Stream, int Partition, long NextOffset, DateTimeOffset UpdatedAt, LogPosition? Position = null);
