namespace FaasEvents.Log.Groups;

/// <summary>A consumer group that has checkpoints (or leases) on a stream: how many partitions it has touched.</summary>
/// <param name="Group">The consumer group.</param>
/// <param name="Stream">The stream it reads.</param>
/// <param name="Partitions">Partitions with a checkpoint blob (a partition never claimed has none yet).</param>
/// <param name="Owned">Partitions an instance holds a lease on now (always 0 for a queue group: its instances lock events, not partitions).</param>
public sealed record ConsumerGroupInfo(string Group, string Stream, int Partitions, int Owned)
{
    /// <summary><c>stream</c>, or <c>queue</c> for a group that consumes its stream as a queue (it has queue state, no checkpoints).</summary>
    public string Consumption { get; init; } = "stream";
}
