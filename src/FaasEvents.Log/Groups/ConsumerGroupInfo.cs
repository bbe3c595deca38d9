using FaasEvents.Log.Consumers;

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

    /// <summary>What the group's function did, summed over its partitions' checkpoints (null for a queue group here: describe it for its counts).</summary>
    public WorkCounts? Counts { get; init; }

    /// <summary>True when the group has committed keyed state (a materializer's table: query it with <see cref="State.StateReader"/>).</summary>
    public bool HasState { get; init; }

    /// <summary>The kind of function behind the group, as storage shows it: <c>queue</c>, <c>materializer</c> (it has state) or <c>handler</c>.</summary>
    public string Kind => Consumption == "queue" ? "queue" : HasState ? "materializer" : "handler";
}
