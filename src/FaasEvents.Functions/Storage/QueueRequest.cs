using FaasEvents.Log.Consumers;
using FaasEvents.Log.Queues;

namespace FaasEvents.Functions.Storage;

/// <summary>One round of a queue consumer on a partition: what it settles and how much it takes.</summary>
/// <param name="Owner">The instance.</param>
/// <param name="Settlements">Outcomes of events it holds.</param>
/// <param name="Max">Most events to acquire (0: settle only).</param>
/// <param name="LockDuration">Lock of each acquired event.</param>
/// <param name="EndOffset">Acquire below this offset (the partition's end as last seen).</param>
/// <param name="Floor">Everything below counts as settled (gone by retention).</param>
/// <param name="Counts">What the function did since its last counted round (added if the round changes the queue).</param>
internal sealed record QueueRequest(string Owner, IReadOnlyList<QueueSettlement> Settlements, int Max, TimeSpan LockDuration, long EndOffset, long Floor, WorkCounts? Counts = null);
