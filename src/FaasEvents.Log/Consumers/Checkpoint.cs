using FaasEvents.Log.Reader;

namespace FaasEvents.Log.Consumers;

/// <summary>A consumer group's position in one partition.</summary>
/// <param name="Group">Consumer group.</param>
/// <param name="Stream">Stream.</param>
/// <param name="Partition">Partition.</param>
/// <param name="NextOffset">The next offset the group will read.</param>
/// <param name="UpdatedAt">When it was last written.</param>
/// <param name="Position">Where the batch holding <paramref name="NextOffset"/> starts, if the writer knew (a resume hint).</param>
public sealed record Checkpoint(string Group, string Stream, int Partition, long NextOffset, DateTimeOffset UpdatedAt, LogPosition? Position = null)
{
    /// <summary>
    /// What the group's <see cref="DuplicateFilter"/> had delivered below <see cref="NextOffset"/> (<see cref="DuplicateFilter.Restore"/>); null:
    /// nothing known. <see cref="CheckpointStore.GetAsync"/> reads it wherever it is stored; a listing leaves it null when it is in its own blob.
    /// </summary>
    public string? Writers { get; init; }

    /// <summary>
    /// The group's writer generation in this partition: 0, then one more with every reset. Part of the ids the group's
    /// functions write under (<see cref="Producer.WriterIdentity.For(string, string, string, int, long)"/>), so a replay's outputs are new writes.
    /// </summary>
    public long Generation { get; init; }

    /// <summary>What the group's function did in this partition, as far as it checkpointed (null: nothing counted yet).</summary>
    public WorkCounts? Counts { get; init; }
}
