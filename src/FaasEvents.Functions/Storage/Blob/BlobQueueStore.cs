using System.Collections.Concurrent;
using FaasEvents.Log;
using FaasEvents.Log.Queues;

namespace FaasEvents.Functions.Storage.Blob;

/// <summary>
/// Queue state in the event log's blobs: one <see cref="PartitionQueue"/> per partition (opened once: it reads the
/// stream's definition; opened again after the queue turned out to be gone).
/// </summary>
internal sealed class BlobQueueStore(EventLogClient log) : IQueueStore
{
    private readonly ConcurrentDictionary<QueueKey, Task<PartitionQueue>> queues = new();

    public TimeProvider Clock => TimeProvider.System; // as the queue blobs are stamped

    public Task<QueueUpdate> SettleAndAcquireAsync(QueueKey queue, QueueRequest r, CancellationToken cancellationToken) =>
        UseAsync(queue, q => q.SettleAndAcquireAsync(r.Owner, r.Settlements, r.Max, r.LockDuration, r.EndOffset, r.Floor, r.Counts, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<long>> RenewAsync(QueueKey queue, string owner, IReadOnlyList<long> offsets, TimeSpan lockDuration, CancellationToken cancellationToken) =>
        UseAsync(queue, q => q.RenewAsync(owner, offsets, lockDuration, cancellationToken), cancellationToken);

    public Task PinStartAsync(QueueKey queue, long offset, CancellationToken cancellationToken) =>
        UseAsync(queue, q => q.PinStartAsync(offset, cancellationToken), cancellationToken);

    /// <summary>
    /// Runs <paramref name="use"/> on the partition's queue. When the queue is gone (its stream deleted or created again,
    /// its state deleted) every queue of that group and stream is forgotten, so they are opened again as they are now.
    /// </summary>
    private async Task<T> UseAsync<T>(QueueKey key, Func<PartitionQueue, Task<T>> use, CancellationToken cancellationToken)
    {
        try
        {
            return await use(await OpenAsync(key, cancellationToken));
        }
        catch (EventLogException ex) when (ex.Reason is EventLogErrorReason.StreamNotFound or EventLogErrorReason.GroupNotFound)
        {
            Forget(key.Group, key.Stream);
            throw;
        }
    }

    public void Forget(string group, string stream)
    {
        foreach (QueueKey gone in queues.Keys.Where(k => k.Group == group && k.Stream == stream))
        {
            queues.TryRemove(gone, out _);
        }
    }

    private async Task<PartitionQueue> OpenAsync(QueueKey key, CancellationToken cancellationToken)
    {
        Task<PartitionQueue> opening = queues.GetOrAdd(key, k => log.OpenQueueAsync(k.Group, k.Stream, k.Partition, k.Window, CancellationToken.None));
        try
        {
            return await opening.WaitAsync(cancellationToken);
        }
        catch (Exception) when (opening.IsFaulted)
        {
            queues.TryRemove(new KeyValuePair<QueueKey, Task<PartitionQueue>>(key, opening)); // a failed open is tried again next time
            throw;
        }
    }
}
