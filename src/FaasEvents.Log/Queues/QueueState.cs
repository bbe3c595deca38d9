using FaasEvents.Log.Consumers;

namespace FaasEvents.Log.Queues;

/// <summary>A partition queue's state.</summary>
/// <param name="SettledBelow">Every event below this offset is settled.</param>
/// <param name="InFlight">Events acquired (or released and waiting for their backoff) above it.</param>
/// <param name="SettledAbove">Events above it settled out of order.</param>
public sealed record QueueState(long SettledBelow, IReadOnlyList<QueueInFlight> InFlight, IReadOnlyList<long> SettledAbove)
{
    /// <summary>A queue nothing has consumed yet.</summary>
    public static QueueState Empty { get; } = new(0, [], []);

    /// <summary>What the queue's function did in this partition (null: nothing counted yet).</summary>
    public WorkCounts? Counts { get; init; }

    /// <summary>Events below <paramref name="endOffset"/> not settled yet (from <paramref name="earliestOffset"/>: what retention removed counts as settled).</summary>
    public long Unsettled(long endOffset, long earliestOffset = 0)
    {
        long from = Math.Max(SettledBelow, earliestOffset);
        return Math.Max(0, endOffset - from - SettledAbove.Count(o => o >= from && o < endOffset));
    }
}
