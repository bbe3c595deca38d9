using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Storage;

using FaasEvents.Log.Consumers;

namespace FaasEvents.Log.Queues;

/// <summary>
/// One partition of a stream consumed as a queue by a consumer group, without a coordinator: its state — the offset
/// below which everything is settled, the settled offsets above it, and the events in flight (owner, lock, delivery
/// count, when a released one becomes visible) — is one blob,
/// <c>queues/{stream}/{created}/{group}/{partition:D5}.json</c> (the stream's creation time: a stream created again
/// starts a new queue; deleting the stream deletes its queues),
/// changed only with <c>If-Match</c> on the ETag it was read with, so instances that race re-read and try again and
/// never acquire the same event at once. Acquisition works in batches within a bounded window above the settled offset.
/// </summary>
public sealed class PartitionQueue
{
    private readonly LogStore store;
    private readonly BlobClient blob;
    private readonly DateTimeOffset created;
    private readonly Func<CancellationToken, Task<Streams.StreamDefinition?>> currentStream;
    private volatile bool seen;

    /// <param name="store">The log's storage.</param>
    /// <param name="group">The consumer group.</param>
    /// <param name="stream">The stream as it was when the queue was opened.</param>
    /// <param name="partition">The partition.</param>
    /// <param name="currentStream">Reads the stream's definition now (null: deleted), to tell a new queue from one whose stream went.</param>
    internal PartitionQueue(LogStore store, string group, Streams.StreamDefinition stream, int partition, Func<CancellationToken, Task<Streams.StreamDefinition?>> currentStream)
    {
        this.store = store;
        this.currentStream = currentStream;
        created = stream.CreatedAt;
        Group = group;
        Stream = stream.Name;
        Partition = partition;
        blob = store.Container.GetBlobClient(StoragePaths.Queue(stream.Name, stream.CreatedAt, group, partition));
    }

    /// <summary>The consumer group.</summary>
    public string Group { get; }

    /// <summary>The stream.</summary>
    public string Stream { get; }

    /// <summary>The partition.</summary>
    public int Partition { get; }

    /// <summary>The most events in flight or settled out of order above the settled offset (the window).</summary>
    public int Window { get; init; } = 1000;

    /// <summary>
    /// Acquires up to <paramref name="max"/> available events below <paramref name="endOffset"/> for
    /// <paramref name="owner"/>, each locked for <paramref name="lockDuration"/>: not settled, not locked by anyone (a
    /// lock that expired counts as free), and visible (a released one after its backoff). Lowest offsets first.
    /// Events below <paramref name="floor"/> (gone by retention) count as settled.
    /// </summary>
    public async Task<IReadOnlyList<QueueDelivery>> AcquireAsync(string owner, int max, TimeSpan lockDuration, long endOffset, long floor = 0, CancellationToken cancellationToken = default) =>
        (await SettleAndAcquireAsync(owner, [], max, lockDuration, endOffset, floor, null, cancellationToken)).Acquired;

    /// <summary>
    /// Settles events <paramref name="owner"/> holds; returns the offsets it no longer held (its lock expired and someone
    /// else may have them: their outcome is not applied). The settled offset moves over every contiguous settled event.
    /// </summary>
    public async Task<IReadOnlyList<long>> SettleAsync(string owner, IReadOnlyList<QueueSettlement> settlements, CancellationToken cancellationToken = default) =>
        (await SettleAndAcquireAsync(owner, settlements, 0, TimeSpan.Zero, 0, 0, null, cancellationToken)).Lost;

    /// <summary>
    /// Settles and acquires in one change of the queue (one read, one conditional write): what a consumer that has
    /// finished some events and has room for more does each round. <paramref name="counts"/>: what the function did since
    /// its last counted round, added to the queue's counts when the round writes anyway (<see cref="QueueUpdate.Counted"/>).
    /// </summary>
    public async Task<QueueUpdate> SettleAndAcquireAsync(string owner, IReadOnlyList<QueueSettlement> settlements, int max, TimeSpan lockDuration, long endOffset, long floor = 0, WorkCounts? counts = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentNullException.ThrowIfNull(settlements);
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return await UpdateAsync(book =>
        {
            QueueUpdate update = book.Round(Partition, owner, settlements, max, lockDuration, endOffset, floor, Window, store.TimeProvider.GetUtcNow(), out bool changed, counts);
            return (changed, update);
        }, cancellationToken);
    }

    /// <summary>Extends the locks <paramref name="owner"/> still holds by <paramref name="lockDuration"/> from now; returns the offsets it no longer held.</summary>
    public async Task<IReadOnlyList<long>> RenewAsync(string owner, IReadOnlyList<long> offsets, TimeSpan lockDuration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentNullException.ThrowIfNull(offsets);
        return await UpdateAsync(book =>
        {
            IReadOnlyList<long> lost = book.Renew(owner, offsets, lockDuration, store.TimeProvider.GetUtcNow());
            return (lost.Count < offsets.Count, lost);
        }, cancellationToken);
    }

    /// <summary>
    /// Makes the queue start at <paramref name="offset"/> if it has never been consumed (a group that starts at the
    /// latest event pins where that was); an existing queue is left as it is. True when it was pinned now.
    /// </summary>
    public async Task<bool> PinStartAsync(long offset, CancellationToken cancellationToken = default)
    {
        await store.EnsureContainerAsync(cancellationToken);
        try
        {
            await blob.UploadAsync(QueueBook.StartingAt(offset).ToBinaryData(), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>
    /// Starts the queue over at <paramref name="offset"/> (an operator's reset, <see cref="QueueBook.ResetTo"/>): events
    /// below it count as settled, the others are delivered again, and the locks held go. Refused with
    /// <see cref="EventLogErrorReason.GroupInUse"/>, naming the holders, while an instance holds a lock, unless
    /// <paramref name="force"/> (their outcomes are then refused and those events delivered again).
    /// </summary>
    public Task ResetAsync(long offset, bool force = false, CancellationToken cancellationToken = default) =>
        UpdateAsync(
            book =>
            {
                if (!force && LockHolders(book.ToState(), store.TimeProvider.GetUtcNow()) is { Count: > 0 } holders)
                {
                    throw new EventLogException(EventLogErrorReason.GroupInUse, $"Queue group '{Group}' on '{Stream}' partition {Partition} has events locked by running instances ({string.Join(", ", holders)}); stop them (scale to zero) first, or reset with --force (their outcomes are then refused and the events delivered again).");
                }

                book.ResetTo(offset);
                return (true, 0);
            },
            cancellationToken);

    /// <summary>The instances holding a live lock in <paramref name="state"/> at <paramref name="now"/>, in name order.</summary>
    internal static IReadOnlyList<string> LockHolders(QueueState? state, DateTimeOffset now) =>
        state is null ? [] : [.. state.InFlight.Where(f => f.Owner is not null && f.LockedUntil > now).Select(f => f.Owner!).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The queue's state, or null when nothing has consumed it yet.</summary>
    public async Task<QueueState?> TryGetStateAsync(CancellationToken cancellationToken = default)
    {
        (QueueBook book, ETag? etag) = await ReadAsync(cancellationToken);
        return etag is null ? null : book.ToState();
    }

    /// <summary>The queue's state now: settled offset, in-flight events (with owners and delivery counts), settled out of order.</summary>
    public async Task<QueueState> GetStateAsync(CancellationToken cancellationToken = default) => (await ReadAsync(cancellationToken)).Book.ToState();

    private async Task<T> UpdateAsync<T>(Func<QueueBook, (bool Changed, T Result)> change, CancellationToken cancellationToken)
    {
        await store.EnsureContainerAsync(cancellationToken);
        for (int attempt = 0; ; attempt++)
        {
            bool existedBefore = seen; // taken before the read: another thread's first write may land between the two
            (QueueBook book, ETag? etag) = await ReadAsync(cancellationToken);
            (bool changed, T result) = change(book);
            if (!changed)
            {
                return result;
            }

            if (etag is null)
            {
                await RefuseIfGoneAsync(existedBefore, cancellationToken); // before creating the blob: never a queue nobody reads
            }

            try
            {
                Response<BlobContentInfo> written = await blob.UploadAsync(
                    book.ToBinaryData(),
                    new BlobUploadOptions { Conditions = etag is { } e ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All } },
                    cancellationToken);
                if (etag is null)
                {
                    await UndoIfGoneAsync(written.Value.ETag, cancellationToken);
                }

                seen = true;
                return result;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 50)
            {
                // Another instance changed the queue since we read it: read again and decide again, after a short random
                // pause that grows with the conflicts, so racing instances spread out instead of colliding again.
                await Task.Delay(Random.Shared.Next(1, 5 + (4 * Math.Min(attempt, 10))), cancellationToken);
            }
        }
    }

    /// <summary>
    /// The queue has no blob and a change is about to create it: right for a queue nothing consumed yet, wrong when its
    /// stream was deleted (and perhaps created again: the blob would go under the old stream's path, where neither the
    /// scaler nor the admin commands look) or its state was deleted under this instance (a forced group delete: the
    /// group starts over at its initial offset). Refuses those, so the runtime opens the queue again.
    /// </summary>
    private async Task RefuseIfGoneAsync(bool existedBefore, CancellationToken cancellationToken)
    {
        if (await StreamChangeAsync(cancellationToken) is { } change)
        {
            throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{Stream}' was {change} since the queue of group '{Group}' on partition {Partition} was opened; nothing was written. Open the queue again to consume the stream as it is now (the runtime starts over on its own).");
        }

        if (existedBefore)
        {
            throw new EventLogException(EventLogErrorReason.GroupNotFound, $"The queue state of group '{Group}' on '{Stream}' partition {Partition} was deleted since this instance last changed it (faas groups delete); nothing was written. Open the queue again: the group starts over at its initial offset (the runtime does this on its own).");
        }
    }

    /// <summary>
    /// The blob was just created: if the stream was deleted (or created again) between the check before and now, the
    /// stream's delete may have swept its queues already, so the blob would be left under the old stream's path. Deletes
    /// it again and refuses. Otherwise the stream was not marked for deletion yet, and a delete to come sweeps the blob.
    /// </summary>
    private async Task UndoIfGoneAsync(ETag created, CancellationToken cancellationToken)
    {
        if (await StreamChangeAsync(cancellationToken) is not { } change)
        {
            return;
        }

        try
        {
            await blob.DeleteAsync(conditions: new BlobRequestConditions { IfMatch = created }, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Swept already, or changed since (another instance on the old stream: it fails the same way at its next look).
        }

        throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{Stream}' was {change} while the queue of group '{Group}' on partition {Partition} was being created; nothing was kept. Open the queue again to consume the stream as it is now (the runtime starts over on its own).");
    }

    /// <summary>"deleted" or "deleted and created again" when the stream is no longer the one this queue was opened on; else null.</summary>
    private async Task<string?> StreamChangeAsync(CancellationToken cancellationToken)
    {
        Streams.StreamDefinition? now = await currentStream(cancellationToken);
        return now is null ? "deleted" : now.CreatedAt != created ? "deleted and created again" : null;
    }

    private async Task<(QueueBook Book, ETag? ETag)> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            Response<BlobDownloadResult> read = await blob.DownloadContentAsync(cancellationToken);
            seen = true;
            return (QueueBook.Parse(read.Value.Content), read.Value.Details.ETag);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return (QueueBook.Parse(null), null);
        }
    }
}
