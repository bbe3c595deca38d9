using System.Globalization;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Storage;

namespace FaasEvents.Log.State;

/// <summary>
/// Exactly-once keyed state for one (consumer group, stream, partition), e.g. a materializer's table.
/// Each commit writes a state blob — a full snapshot or a delta of changed keys, pointing at its predecessor — and
/// then moves the group's checkpoint <em>and</em> its <c>statetip</c> together with one metadata write fenced by
/// the partition lease. So state and offset never disagree, a stale owner cannot commit, and blobs written but not
/// committed (a crash, a lost lease) are never read. Restore follows the chain from the tip back to the last full
/// snapshot, so its cost is bounded by the table size plus the deltas since that snapshot, not by history.
/// </summary>
public sealed class PartitionStateStore
{
    private readonly LogStore store;
    private readonly CheckpointStore checkpoints;
    private string? tip;
    private long? lastFullOffset;
    private readonly HashSet<string> attempted = new(StringComparer.Ordinal); // blobs whose commit may have landed unseen

    internal PartitionStateStore(LogStore store, CheckpointStore checkpoints, string group, string stream, int partition)
    {
        CheckpointStore.Validate(group, stream, partition);
        this.store = store;
        this.checkpoints = checkpoints;
        Group = group;
        Stream = stream;
        Partition = partition;
    }

    /// <summary>Consumer group (the materializer).</summary>
    public string Group { get; }

    /// <summary>Stream.</summary>
    public string Stream { get; }

    /// <summary>Partition.</summary>
    public int Partition { get; }

    private string Prefix => $"state/{Group}/{Stream}/{Partition.ToString("D5", CultureInfo.InvariantCulture)}/";

    /// <summary>Rebuilds the committed table. Call after acquiring the partition's lease, before applying events.</summary>
    public async Task<RestoredState> RestoreAsync(CancellationToken cancellationToken = default)
    {
        for (int attempt = 0; ; attempt++)
        {
            (long? offset, string? committedTip) = await checkpoints.GetStateAsync(Group, Stream, Partition, cancellationToken);
            try
            {
                RestoredState state = await RestoreFromAsync(committedTip, offset, cancellationToken);
                tip = committedTip;
                return state;
            }
            catch (RequestFailedException ex) when (ex.Status == 404 && attempt < 5)
            {
                // A newer snapshot was committed and the chain we were following was swept meanwhile: start again from the new tip.
            }
        }
    }

    private async Task<RestoredState> RestoreFromAsync(string? committedTip, long? offset, CancellationToken cancellationToken)
    {
        // The chain's names first (one properties read each), then each blob streamed oldest first into the table:
        // memory holds the table and one block, never a whole blob.
        var chain = new Stack<string>();
        for (string? name = committedTip; name is not null;)
        {
            chain.Push(name);
            BlobProperties props = (await store.Container.GetBlobClient(name).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            name = props.Metadata.TryGetValue("prev", out string? prev) && prev.Length > 0 ? prev : null;
        }

        var table = new Dictionary<string, BinaryData>(StringComparer.Ordinal);
        int length = chain.Count;
        while (chain.TryPop(out string? name))
        {
            BlobDownloadStreamingResult download = (await store.Container.GetBlobClient(name).DownloadStreamingAsync(cancellationToken: cancellationToken)).Value;
            await using Stream content = download.Content;
            await foreach ((string key, BinaryData? value) in StateBlobFormat.ReadAllAsync(content, name, cancellationToken))
            {
                if (value is null)
                {
                    table.Remove(key);
                }
                else
                {
                    table[key] = value;
                }
            }
        }

        return new RestoredState(table, offset, length);
    }

    /// <summary>
    /// Commits the keys changed since the last commit (null value = deleted) as of <paramref name="nextOffset"/>.
    /// Throws <see cref="EventLogErrorReason.LeaseLost"/> if the lease is gone: nothing is committed then.
    /// </summary>
    /// <param name="changes">Changed keys; a null value deletes the key.</param>
    /// <param name="nextOffset">The first offset not folded into the state.</param>
    /// <param name="lease">The partition lease that fences the commit.</param>
    /// <param name="position">Optional resume hint for <paramref name="nextOffset"/>, stored with the checkpoint.</param>
    /// <param name="writers">Optional duplicate-filter state for <paramref name="nextOffset"/> (<see cref="DuplicateFilter.Settle"/>), stored with the checkpoint.</param>
    /// <param name="counts">Optional: what the function did since its last commit, added to the checkpoint's <see cref="Checkpoint.Counts"/>.</param>
    /// <param name="cancellationToken">Cancels the commit (nothing is committed then).</param>
    public Task CommitAsync(IReadOnlyDictionary<string, BinaryData?> changes, long nextOffset, PartitionLease lease, LogPosition? position = null, string? writers = null, WorkCounts? counts = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return WriteAndCommitAsync(StateBlobFormat.KindDelta, [.. changes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value))], nextOffset, lease, position, writers, counts, cancellationToken);
    }

    /// <summary>Commits the whole table (consolidation): later restores start here.</summary>
    public Task CommitSnapshotAsync(IReadOnlyDictionary<string, BinaryData> table, long nextOffset, PartitionLease lease, LogPosition? position = null, string? writers = null, WorkCounts? counts = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        string[] keys = [.. table.Keys];
        Array.Sort(keys, StringComparer.Ordinal);
        var entries = new (string Key, BinaryData? Value)[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            entries[i] = (keys[i], table[keys[i]]);
        }

        return WriteAndCommitAsync(StateBlobFormat.KindFull, entries, nextOffset, lease, position, writers, counts, cancellationToken);
    }

    /// <summary>
    /// Deletes state blobs that the committed chain no longer needs: those stamped with an offset below the last
    /// full snapshot committed through this store. Readers that were following an older chain re-read the tip.
    /// Returns the number of blobs deleted.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        if (lastFullOffset is not { } below)
        {
            return 0;
        }

        int deleted = 0;
        await foreach (BlobItem item in store.Container.GetBlobsAsync(new GetBlobsOptions { Prefix = Prefix }, cancellationToken))
        {
            string leaf = item.Name[Prefix.Length..];
            if (leaf.Length >= 20 && long.TryParse(leaf.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out long offset) && offset < below && item.Name != tip)
            {
                try
                {
                    await store.Container.DeleteBlobIfExistsAsync(item.Name, cancellationToken: cancellationToken);
                    deleted++;
                }
                catch (RequestFailedException)
                {
                    // Best effort: the next sweep tries again.
                }
            }
        }

        return deleted;
    }

    private async Task WriteAndCommitAsync(byte kind, IReadOnlyCollection<(string Key, BinaryData? Value)> entries, long nextOffset, PartitionLease lease, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        string name = $"{Prefix}{nextOffset.ToString("D20", CultureInfo.InvariantCulture)}-{(kind == StateBlobFormat.KindFull ? "full" : "delta")}-{Guid.NewGuid().ToString("N")[..8]}";
        // Streamed: the blob is staged in blocks as it is encoded, so a snapshot is never held as one buffer.
        BlockBlobClient blob = store.Container.GetBlockBlobClient(name);
        await using (Stream upload = await blob.OpenWriteAsync(
            overwrite: true,
            new BlockBlobOpenWriteOptions
            {
                Metadata = new Dictionary<string, string> { ["prev"] = kind == StateBlobFormat.KindFull ? "" : tip ?? "", ["kind"] = kind == StateBlobFormat.KindFull ? "full" : "delta", ["format"] = "2" },
                OpenConditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                BufferSize = 16 * 1024 * 1024,
            },
            cancellationToken))
        {
            await StateBlobFormat.WriteAsync(upload, kind, nextOffset, entries, cancellationToken);
        }

        // The commit point: offset and tip move together, only while this instance holds the lease.
        attempted.Add(name);
        if (!await checkpoints.CommitStateAsync(Group, Stream, Partition, nextOffset, position, name, writers, counts, lease, cancellationToken))
        {
            // An ambiguous failure (a lost response, retried by the SDK or by the caller) may have committed one of our
            // own blobs at this very offset: then the state at nextOffset is committed and this is a success.
            (long? committedOffset, string? committedTip) = await checkpoints.GetStateAsync(Group, Stream, Partition, cancellationToken);
            if (committedOffset != nextOffset || committedTip is null || !attempted.Contains(committedTip))
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, $"State of group '{Group}' on stream '{Stream}' partition {Partition}: offset {nextOffset} is not past the committed offset; commit only after applying new events.");
            }

            name = committedTip;
            kind = name.Contains("-full-", StringComparison.Ordinal) ? StateBlobFormat.KindFull : StateBlobFormat.KindDelta;
        }

        attempted.Clear();
        tip = name;
        if (kind == StateBlobFormat.KindFull)
        {
            lastFullOffset = nextOffset;
        }
    }
}
