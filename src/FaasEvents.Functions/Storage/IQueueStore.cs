using FaasEvents.Log.Queues;

namespace FaasEvents.Functions.Storage;

/// <summary>
/// Where a queue-consumed group keeps each partition's queue state (<see cref="QueueBook"/>): the blob implementation
/// is one blob per partition changed with If-Match (<see cref="Log.Queues.PartitionQueue"/>); the in-memory one keeps the
/// books under a lock. Every change is atomic: racing instances never acquire one event at once.
/// </summary>
internal interface IQueueStore
{
    /// <summary>The clock locks, backoffs and expiries are stamped and judged by (storage's real time for blobs).</summary>
    TimeProvider Clock { get; }

    /// <summary>Settles what the owner finished and acquires more in one change of the partition's queue.</summary>
    Task<QueueUpdate> SettleAndAcquireAsync(QueueKey queue, QueueRequest request, CancellationToken cancellationToken);

    /// <summary>Extends the owner's locks; returns the offsets it no longer held.</summary>
    Task<IReadOnlyList<long>> RenewAsync(QueueKey queue, string owner, IReadOnlyList<long> offsets, TimeSpan lockDuration, CancellationToken cancellationToken);

    /// <summary>Starts a never-consumed queue at <paramref name="offset"/> (initialOffset latest); an existing one is left as it is.</summary>
    Task PinStartAsync(QueueKey queue, long offset, CancellationToken cancellationToken);

    /// <summary>The group's queues on the stream are gone (stream deleted or created again): open them again as they are now.</summary>
    void Forget(string group, string stream);
}
