using System.Collections.Concurrent;
using FaasEvents.Log;
using FaasEvents.Log.Queues;

namespace FaasEvents.Functions.Storage.Blob;

/// <summary>Queue state in the event log's blobs: one <see cref="PartitionQueue"/> per partition (opened once: it reads the stream's definition).</summary>
internal sealed class BlobQueueStore(EventLogClient log) : IQueueStore
{
    private readonly ConcurrentDictionary<QueueKey, Task<PartitionQueue>> queues = new();

    public TimeProvider Clock => TimeProvider.System; // as the queue blobs are stamped

    public async Task<QueueUpdate> SettleAndAcquireAsync(QueueKey queue, QueueRequest r, CancellationToken cancellationToken) =>
        await (await OpenAsync(queue, cancellationToken)).SettleAndAcquireAsync(r.Owner, r.Settlements, r.Max, r.LockDuration, r.EndOffset, r.Floor, r.Counts, cancellationToken);

    public async Task<IReadOnlyList<long>> RenewAsync(QueueKey queue, string owner, IReadOnlyList<long> offsets, TimeSpan lockDuration, CancellationToken cancellationToken) =>
        await (await OpenAsync(queue, cancellationToken)).RenewAsync(owner, offsets, lockDuration, cancellationToken);

    public async Task PinStartAsync(QueueKey queue, long offset, CancellationToken cancellationToken) =>
        await (await OpenAsync(queue, cancellationToken)).PinStartAsync(offset, cancellationToken);

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
