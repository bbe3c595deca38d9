using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Consumers;

/// <summary>
/// Checkpoints of consumer groups: blob <c>groups/{group}/{stream}/{partition}</c>, next offset in metadata
/// <c>offset</c>. Writes are ETag-guarded and only move forward; an owner's writes also carry its lease,
/// so an instance that lost its partition cannot checkpoint it.
/// </summary>
public sealed class CheckpointStore
{
    internal const string OffsetKey = "offset";
    internal const string OwnerKey = "owner";
    internal const string LeaseSecondsKey = "leaseseconds";
    internal const string PositionKey = "position";
    internal const string StateTipKey = "statetip";
    internal const string WritersKey = "writers";
    internal const string WritersBlobKey = "writersblob";

    /// <summary>The longest filter state kept in the checkpoint's metadata (8 KiB in all); a longer one goes to a blob.</summary>
    internal const int MaxInlineWritersLength = 6 * 1024;
    internal const string GenerationKey = "generation";
    internal const string CountsKey = "counts";
    private readonly LogStore store;
    private readonly ConcurrentDictionary<string, (ETag ETag, IDictionary<string, string> Metadata)> known = new(StringComparer.Ordinal);

    internal CheckpointStore(LogStore store) => this.store = store;

    /// <summary>
    /// Reads one checkpoint, or null when the group has none for the partition. A duplicate-filter state stored in its
    /// own blob (more than about 165 writers) is read too: one more request.
    /// </summary>
    public async Task<Checkpoint?> GetAsync(string group, string stream, int partition, CancellationToken cancellationToken = default)
    {
        Validate(group, stream, partition);
        for (int attempt = 0; ; attempt++)
        {
            BlobProperties props;
            try
            {
                props = (await store.CheckpointBlob(group, stream, partition).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return null;
            }

            Checkpoint? checkpoint = ToCheckpoint(group, stream, partition, props.Metadata, props.LastModified);
            if (checkpoint is null || !props.Metadata.TryGetValue(WritersBlobKey, out string? spilled))
            {
                return checkpoint;
            }

            try
            {
                BinaryData state = (await store.Container.GetBlobClient(spilled).DownloadContentAsync(cancellationToken)).Value.Content;
                return checkpoint with { Writers = state.ToString() };
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                if (attempt >= 3)
                {
                    throw new EventLogException(EventLogErrorReason.CorruptData, $"Checkpoint of group '{group}' on stream '{stream}' partition {partition} names duplicate-filter state '{spilled}', which is missing; reset the group's checkpoint (faas groups reset) to read on without it.", ex);
                }

                // A newer checkpoint replaced it (and deleted it) after we read this one: read again.
            }
        }
    }

    /// <summary>All checkpoints of a group (for one stream, or all when <paramref name="stream"/> is null), in one listing.</summary>
    public async Task<IReadOnlyList<Checkpoint>> ListAsync(string group, string? stream = null, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(group, "consumer group");
        string prefix = stream is null ? $"{StoragePaths.GroupsRoot}{group}/" : StoragePaths.GroupStreamPrefix(group, stream);
        var result = new List<Checkpoint>();
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, prefix, cancellationToken))
            {
                string[] parts = item.Name.Split('/');
                if (parts.Length == 4 && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out int partition)
                    && ToCheckpoint(group, parts[2], partition, item.Metadata, item.Properties.LastModified ?? default) is { } cp)
                {
                    result.Add(cp);
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        result.Sort((a, b) => (a.Stream, a.Partition).CompareTo((b.Stream, b.Partition)));
        return result;
    }

    /// <summary>
    /// Moves the checkpoint forward to <paramref name="nextOffset"/>. Returns false (and writes nothing) when the
    /// stored checkpoint is already at or past it. Pass the partition's lease when the caller owns it; a lost
    /// lease fails with <see cref="EventLogErrorReason.LeaseLost"/>.
    /// </summary>
    public Task<bool> UpdateAsync(string group, string stream, int partition, long nextOffset, PartitionLease? lease = null, CancellationToken cancellationToken = default) =>
        WriteAsync(group, stream, partition, nextOffset, null, lease, allowBackwards: false, cancellationToken);

    /// <summary>Commits materialized state: moves the checkpoint and the committed state blob together, fenced by the lease.</summary>
    internal Task<bool> CommitStateAsync(string group, string stream, int partition, long nextOffset, LogPosition? position, string stateTip, string? writers, WorkCounts? counts, PartitionLease lease, CancellationToken cancellationToken) =>
        WriteAsync(group, stream, partition, nextOffset, position, lease, allowBackwards: false, cancellationToken, WithWriters(new Dictionary<string, string> { [StateTipKey] = stateTip }, writers), counts);

    /// <summary>The committed state blob and offset of a partition (null tip when nothing was committed).</summary>
    internal async Task<(long? NextOffset, string? StateTip)> GetStateAsync(string group, string stream, int partition, CancellationToken cancellationToken)
    {
        try
        {
            BlobProperties props = (await store.CheckpointBlob(group, stream, partition).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return (ParseOffset(props.Metadata), props.Metadata.TryGetValue(StateTipKey, out string? tip) ? tip : null);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return (null, null);
        }
    }

    /// <summary>As <see cref="UpdateAsync(string, string, int, long, PartitionLease?, CancellationToken)"/>, also storing where the next batch starts.</summary>
    public Task<bool> UpdateAsync(string group, string stream, int partition, long nextOffset, LogPosition? position, PartitionLease? lease, CancellationToken cancellationToken = default) =>
        WriteAsync(group, stream, partition, nextOffset, position, lease, allowBackwards: false, cancellationToken);

    /// <summary>
    /// As <see cref="UpdateAsync(string, string, int, long, LogPosition?, PartitionLease?, CancellationToken)"/>, also storing
    /// what the consumer's <see cref="DuplicateFilter"/> delivered below <paramref name="nextOffset"/> (<see cref="DuplicateFilter.Settle"/>),
    /// in the same request.
    /// </summary>
    public Task<bool> UpdateAsync(string group, string stream, int partition, long nextOffset, LogPosition? position, string? writers, PartitionLease? lease, CancellationToken cancellationToken = default) =>
        WriteAsync(group, stream, partition, nextOffset, position, lease, allowBackwards: false, cancellationToken, WithWriters([], writers));

    /// <summary>
    /// As <see cref="UpdateAsync(string, string, int, long, LogPosition?, string?, PartitionLease?, CancellationToken)"/>, also adding
    /// <paramref name="counts"/> (what the function did since its last checkpoint here) to the partition's <see cref="Checkpoint.Counts"/>,
    /// in the same request.
    /// </summary>
    public Task<bool> UpdateAsync(string group, string stream, int partition, long nextOffset, LogPosition? position, string? writers, WorkCounts? counts, PartitionLease? lease, CancellationToken cancellationToken = default) =>
        WriteAsync(group, stream, partition, nextOffset, position, lease, allowBackwards: false, cancellationToken, WithWriters([], writers), counts);

    /// <summary>
    /// Sets the checkpoint to any offset, backwards included (replay). A materializer's committed state is dropped with
    /// it (the table is rebuilt from the new offset: reset to the earliest offset to rebuild it whole), and so is the
    /// duplicate filter's state; the group's writer generation moves on, so what a replay writes is new to its readers,
    /// not skipped as a copy of what the first run wrote (<see cref="Checkpoint.Generation"/>). Fails with
    /// <see cref="EventLogErrorReason.LeaseLost"/> while an instance owns the partition.
    /// </summary>
    public Task ResetAsync(string group, string stream, int partition, long nextOffset, CancellationToken cancellationToken = default) =>
        WriteAsync(group, stream, partition, nextOffset, null, null, allowBackwards: true, cancellationToken);

    /// <summary>As <see cref="ResetAsync(string, string, int, long, CancellationToken)"/>, under a lease the caller holds (an admin reset that fenced the owners).</summary>
    internal Task ResetAsync(string group, string stream, int partition, long nextOffset, PartitionLease lease, CancellationToken cancellationToken) =>
        WriteAsync(group, stream, partition, nextOffset, null, lease, allowBackwards: true, cancellationToken);

    private async Task<bool> WriteAsync(string group, string stream, int partition, long nextOffset, LogPosition? position, PartitionLease? lease, bool allowBackwards, CancellationToken cancellationToken, Dictionary<string, string>? extra = null, WorkCounts? counts = null)
    {
        Validate(group, stream, partition);
        ArgumentOutOfRangeException.ThrowIfNegative(nextOffset);
        string? spilled = null;
        if (extra is not null && extra.TryGetValue(WritersKey, out string? writers) && writers.Length > MaxInlineWritersLength)
        {
            // Too large for metadata: a new blob first, then the checkpoint naming it (the commit point).
            spilled = StoragePaths.WritersState(group, stream, partition, nextOffset);
            await store.EnsureContainerAsync(cancellationToken);
            await store.Container.GetBlobClient(spilled).UploadAsync(BinaryData.FromString(writers), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
            extra.Remove(WritersKey);
            extra[WritersBlobKey] = spilled;
        }

        try
        {
            (bool written, IDictionary<string, string> stored, string? replaced) = await WriteMetadataAsync(group, stream, partition, nextOffset, position, lease, allowBackwards, extra, counts, cancellationToken);
            stored.TryGetValue(WritersBlobKey, out string? named);
            if (replaced is not null && replaced != named)
            {
                await DeleteQuietlyAsync(replaced); // the state the previous checkpoint named
            }

            if (spilled is not null && spilled != named)
            {
                await DeleteQuietlyAsync(spilled); // not committed (the checkpoint was already past nextOffset)
            }

            return written;
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.LeaseLost && spilled is not null)
        {
            await DeleteQuietlyAsync(spilled); // refused: nothing names it
            throw;
        }
    }

    private async Task DeleteQuietlyAsync(string name)
    {
        try
        {
            await store.Container.DeleteBlobIfExistsAsync(name);
        }
        catch (RequestFailedException)
        {
            // Best effort: a leftover is removed with its stream.
        }
    }

    /// <summary>Writes the checkpoint's metadata: whether it was written, the metadata now stored, and the spilled filter state it replaced.</summary>
    private async Task<(bool Written, IDictionary<string, string> Stored, string? Replaced)> WriteMetadataAsync(string group, string stream, int partition, long nextOffset, LogPosition? position, PartitionLease? lease, bool allowBackwards, Dictionary<string, string>? extra, WorkCounts? counts, CancellationToken cancellationToken)
    {
        BlobClient blob = store.CheckpointBlob(group, stream, partition);
        for (int attempt = 0; ; attempt++)
        {
            // Common case: one request, guarded by the ETag we last saw.
            bool fresh = false;
            if (!known.TryGetValue(blob.Name, out var cached))
            {
                fresh = true;
                try
                {
                    BlobProperties props = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
                    cached = (props.ETag, props.Metadata);
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    if (lease is not null)
                    {
                        // The blob carried the lease: without it, the partition is no longer ours (deleted stream or group).
                        throw new EventLogException(EventLogErrorReason.LeaseLost, $"Checkpoint of group '{group}' on stream '{stream}' partition {partition} not written: its checkpoint blob was deleted, so this instance no longer owns the partition.", ex);
                    }

                    await store.EnsureContainerAsync(cancellationToken);
                    if (await TryCreateAsync(blob, nextOffset, position, WithCounts(extra, null, counts), cancellationToken) is { } created)
                    {
                        return (true, created, null);
                    }

                    continue;
                }
            }

            long? current = ParseOffset(cached.Metadata);
            if (!allowBackwards && current >= nextOffset && !fresh)
            {
                // Remembered, not read: another process may have moved the checkpoint back since (an admin reset that
                // fenced this instance, which then claimed the partition again). Skipping on a stale memory would leave
                // the replay unrecorded, so look again (one request, only when a write would be skipped).
                known.TryRemove(blob.Name, out _);
                continue;
            }

            if (!allowBackwards && current >= nextOffset)
            {
                if (lease is not null)
                {
                    // Nothing to write, but a caller that lost its lease must hear so (and stop), not just "no change".
                    await EnsureLeaseHeldAsync(blob, group, stream, partition, lease, cancellationToken);
                }

                return (false, cached.Metadata, null);
            }

            var metadata = new Dictionary<string, string>(cached.Metadata, StringComparer.OrdinalIgnoreCase)
            {
                [OffsetKey] = nextOffset.ToString(CultureInfo.InvariantCulture),
            };
            if (position is { } pos)
            {
                metadata[PositionKey] = pos.ToString();
            }
            else
            {
                metadata.Remove(PositionKey); // a stale hint must not outlive the offset it belonged to
            }

            if (allowBackwards)
            {
                // A reset moves the offset away from the committed state: that state no longer matches it (it would be
                // folded again on top of itself), so it is dropped and the table starts empty at the new offset. The
                // filter's state is ahead of the offset too (it would skip what the replay is for), and a replay writes
                // under a new generation of writer ids, so readers deliver its outputs instead of skipping them.
                metadata.Remove(StateTipKey);
                metadata.Remove(WritersKey);
                metadata.Remove(WritersBlobKey);
                metadata[GenerationKey] = (ParseGeneration(cached.Metadata) + 1).ToString(CultureInfo.InvariantCulture);
            }

            foreach ((string k, string v) in WithCounts(extra, cached.Metadata, counts) ?? [])
            {
                metadata[k] = v;
            }

            if (extra?.ContainsKey(WritersKey) == true)
            {
                metadata.Remove(WritersBlobKey); // the state is inline again
            }
            else if (extra?.ContainsKey(WritersBlobKey) == true)
            {
                metadata.Remove(WritersKey);
            }

            try
            {
                BlobInfo info = (await blob.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = cached.ETag, LeaseId = lease?.LeaseId }, cancellationToken)).Value;
                known[blob.Name] = (info.ETag, metadata);
                return (true, metadata, cached.Metadata.TryGetValue(WritersBlobKey, out string? replaced) ? replaced : null);
            }
            catch (RequestFailedException ex) when (ex.ErrorCode is "LeaseIdMissing" or "LeaseIdMismatchWithBlobOperation" or "LeaseLost" or "LeaseNotPresentWithBlobOperation")
            {
                known.TryRemove(blob.Name, out _);
                string who = lease is null ? "The partition is owned by a running consumer; stop it (or wait for its lease to expire) before resetting." : "This instance no longer owns the partition.";
                throw new EventLogException(EventLogErrorReason.LeaseLost, $"Checkpoint of group '{group}' on stream '{stream}' partition {partition} not written: {who}", ex);
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 404 && attempt < 20)
            {
                known.TryRemove(blob.Name, out _); // someone else wrote it: re-read and decide again
            }
        }
    }

    private static async Task EnsureLeaseHeldAsync(BlobClient blob, string group, string stream, int partition, PartitionLease lease, CancellationToken cancellationToken)
    {
        try
        {
            await blob.GetPropertiesAsync(new BlobRequestConditions { LeaseId = lease.LeaseId }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            throw new EventLogException(EventLogErrorReason.LeaseLost, $"Group '{group}' on stream '{stream}' partition {partition}: this instance no longer owns the partition.", ex);
        }
    }

    private static async Task<IDictionary<string, string>?> TryCreateAsync(BlobClient blob, long nextOffset, LogPosition? position, IReadOnlyDictionary<string, string>? extra, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string> { [OffsetKey] = nextOffset.ToString(CultureInfo.InvariantCulture) };
        if (position is { } pos)
        {
            metadata[PositionKey] = pos.ToString();
        }

        foreach ((string k, string v) in extra ?? new Dictionary<string, string>())
        {
            metadata[k] = v;
        }

        try
        {
            await blob.UploadAsync(
                BinaryData.Empty,
                new BlobUploadOptions
                {
                    Metadata = metadata,
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                },
                cancellationToken);
            return metadata;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return null;
        }
    }

    private static Dictionary<string, string> WithWriters(Dictionary<string, string> extra, string? writers)
    {
        if (writers is not null)
        {
            extra[WritersKey] = writers;
        }

        return extra;
    }

    /// <summary><paramref name="extra"/> with the stored counts plus <paramref name="counts"/> (added to what is stored, so a re-read after a conflict adds them to the newer value).</summary>
    private static Dictionary<string, string>? WithCounts(Dictionary<string, string>? extra, IDictionary<string, string>? stored, WorkCounts? counts)
    {
        if (counts is null || counts.IsNone)
        {
            return extra;
        }

        WorkCounts before = stored is not null && stored.TryGetValue(CountsKey, out string? s) ? WorkCounts.Parse(s) ?? WorkCounts.None : WorkCounts.None;
        return new Dictionary<string, string>(extra ?? [], StringComparer.OrdinalIgnoreCase) { [CountsKey] = (before + counts).ToString() };
    }

    internal static long ParseGeneration(IDictionary<string, string> metadata) =>
        metadata.TryGetValue(GenerationKey, out string? v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long g) ? g : 0;

    internal static long? ParseOffset(IDictionary<string, string> metadata) =>
        metadata.TryGetValue(OffsetKey, out string? v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long o) ? o : null;

    internal static void Validate(string group, string stream, int partition)
    {
        StreamDefinition.ValidateName(group, "consumer group");
        StreamDefinition.ValidateName(stream, "stream");
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
    }

    private static Checkpoint? ToCheckpoint(string group, string stream, int partition, IDictionary<string, string> metadata, DateTimeOffset updated) =>
        ParseOffset(metadata) is { } offset
            ? new Checkpoint(group, stream, partition, offset, updated, LogPosition.TryParse(metadata.TryGetValue(PositionKey, out string? p) ? p : null))
            {
                Writers = metadata.TryGetValue(WritersKey, out string? w) ? w : null,
                Generation = ParseGeneration(metadata),
                Counts = metadata.TryGetValue(CountsKey, out string? c) ? WorkCounts.Parse(c) : null,
            }
            : null;
}
