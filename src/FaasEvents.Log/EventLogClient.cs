using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Format;
using FaasEvents.Log.Storage;

namespace FaasEvents.Log;

/// <summary>
/// Entry point to a FaasEvents event log kept in one blob container: streams, producers, readers,
/// consumer-group checkpoints, partition leases, lag and retention.
/// </summary>
public sealed class EventLogClient
{
    /// <summary>The development storage connection string (Azurite on its default ports).</summary>
    public const string DevelopmentStorage = "UseDevelopmentStorage=true";

    /// <summary>Metadata on stream.json marking a stream whose delete has begun: it no longer exists for readers and writers.</summary>
    internal const string DeletingKey = "deleting";

    private readonly EventLogClientOptions options;
    private Task? containerReady;

    /// <summary>Connects with a storage connection string (Azurite: <c>UseDevelopmentStorage=true</c>).</summary>
    public EventLogClient(string connectionString, EventLogClientOptions? options = null)
        : this(new BlobServiceClient(connectionString, options?.StorageOptions), options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        StorageDescription = DescribeConnectionString(connectionString);
    }

    /// <summary>Connects to a storage account's blob endpoint with a token credential (e.g. managed identity).</summary>
    public EventLogClient(Uri serviceUri, TokenCredential credential, EventLogClientOptions? options = null)
        : this(new BlobServiceClient(serviceUri, credential, options?.StorageOptions), options)
    {
        StorageDescription = $"{serviceUri.GetLeftPart(UriPartial.Path).TrimEnd('/')} ({credential.GetType().Name})";
    }

    /// <summary>Uses an existing service client.</summary>
    public EventLogClient(BlobServiceClient serviceClient, EventLogClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(serviceClient);
        this.options = options?.Clone() ?? new EventLogClientOptions();
        Container = serviceClient.GetBlobContainerClient(this.options.ContainerName);
        StorageDescription = serviceClient.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        Checkpoints = new CheckpointStore(this);
    }

    /// <summary>
    /// Creates a client from a storage setting: a connection string, an <c>https://</c> blob endpoint
    /// (authenticated with <see cref="DefaultAzureCredential"/>), or null/empty for Azurite's development storage.
    /// </summary>
    public static EventLogClient FromSetting(string? setting, EventLogClientOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return new EventLogClient(DevelopmentStorage, options);
        }

        setting = setting.Trim();
        if (setting.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || setting.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(setting, UriKind.Absolute, out Uri? uri))
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Storage setting '{setting}' is not a valid blob endpoint URI.");
            }

            return new EventLogClient(uri, new DefaultAzureCredential(), options);
        }

        try
        {
            return new EventLogClient(setting, options);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new EventLogException(
                EventLogErrorReason.InvalidArgument,
                "The storage setting is neither a valid connection string nor an https:// blob endpoint (the value is not shown because it may hold a secret).",
                ex);
        }
    }

    /// <summary>Where the log lives, safe to print: account endpoint and auth kind, never a key.</summary>
    public string StorageDescription { get; }

    /// <summary>The container holding the log.</summary>
    public BlobContainerClient Container { get; }

    /// <summary>Consumer-group checkpoints.</summary>
    public CheckpointStore Checkpoints { get; }

    /// <summary>Most bytes a reader fetches from a segment in one request.</summary>
    internal int ReadRangeBytes => options.ReadRangeBytes;

    internal TimeProvider TimeProvider => options.TimeProvider;

    /// <summary>Creates a lease client acting for <paramref name="ownerId"/> (an instance id).</summary>
    public PartitionLeaseClient CreateLeaseClient(string ownerId) => new(this, ownerId);

    /// <summary>Creates a tracker of <paramref name="stream"/>'s end offsets for pollers (one listing per refresh).</summary>
    public EndOffsetTracker CreateEndOffsetTracker(string stream) => new(this, stream);

    /// <summary>Creates the exactly-once state store of one partition for a consumer group (e.g. a materializer).</summary>
    public PartitionStateStore CreateStateStore(string group, string stream, int partition) => new(this, group, stream, partition);

    /// <summary>Reads a group's committed keyed state (a materializer's table) without owning partitions.</summary>
    public StateReader CreateStateReader(string group, string stream) => new(this, group, stream);

    /// <summary>Creates a producer for <paramref name="stream"/>.</summary>
    public EventProducerClient CreateProducer(string stream, EventProducerOptions? producerOptions = null) =>
        new(this, stream, producerOptions);

    /// <summary>
    /// Reads a partition in offset order as an async stream of events, with bounded memory (one batch at a time).
    /// Stops at the end unless <see cref="ReadOptions.Follow"/> is set.
    /// </summary>
    public async IAsyncEnumerable<StoredEvent> ReadPartitionAsync(string stream, int partition, ReadOptions? readOptions = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (IReadOnlyList<StoredEvent> batch in ReadBatchesAsync(stream, partition, readOptions, cancellationToken))
        {
            foreach (StoredEvent e in batch)
            {
                yield return e;
            }
        }
    }

    /// <summary>Reads a partition batch by batch (as appended), in offset order.</summary>
    public async IAsyncEnumerable<IReadOnlyList<StoredEvent>> ReadBatchesAsync(string stream, int partition, ReadOptions? readOptions = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (EventBlock block in ReadBlocksAsync(stream, partition, readOptions, cancellationToken))
        {
            yield return block.Events;
        }
    }

    /// <summary>Reads a partition batch by batch with each batch's position (to store with checkpoints as a resume hint).</summary>
    public async IAsyncEnumerable<EventBlock> ReadBlocksAsync(string stream, int partition, ReadOptions? readOptions = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        CheckPartition(def, partition);
        var reader = new PartitionReader(this, def, partition, readOptions ?? new ReadOptions());
        await foreach (EventBlock block in reader.ReadBlocksAsync(cancellationToken))
        {
            yield return block;
        }
    }

    /// <summary>
    /// Creates a stream. Throws <see cref="EventLogErrorReason.StreamAlreadyExists"/> if it exists (and then changes
    /// nothing), and <see cref="EventLogErrorReason.LeftoverData"/> if segments of an earlier stream of that name remain.
    /// Never deletes data of a stream that exists; finishes an interrupted delete of an earlier one.
    /// </summary>
    public async Task<StreamDefinition> CreateStreamAsync(StreamDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        definition = definition with { CreatedAt = definition.CreatedAt == default ? TimeProvider.GetUtcNow() : definition.CreatedAt, FormatVersion = BatchFormat.FormatVersion };
        definition.Validate();
        await EnsureContainerAsync(cancellationToken);
        BlobClient document = Container.GetBlobClient(StoragePaths.StreamDocument(definition.Name));
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(StreamDocument.From(definition), StreamDocument.Json);
        for (int attempt = 0; ; attempt++)
        {
            BlobProperties? existing = await TryGetPropertiesAsync(document, cancellationToken);
            if (existing is not null)
            {
                if (!IsDeleting(existing.Metadata) || attempt >= 3)
                {
                    throw new EventLogException(EventLogErrorReason.StreamAlreadyExists, $"Stream '{definition.Name}' already exists.");
                }

                // An earlier stream of this name was being deleted when its deleter stopped: it is not live, finish the job.
                await FinishDeleteAsync(definition.Name, existing.ETag, cancellationToken);
                continue;
            }

            if (await AnyBlobAsync(StoragePaths.StreamPrefix(definition.Name), cancellationToken)
                && await TryGetPropertiesAsync(document, cancellationToken) is null) // a live stream's definition is written before its first segment
            {
                throw new EventLogException(
                    EventLogErrorReason.LeftoverData,
                    $"Stream '{definition.Name}' cannot be created: segments of an earlier stream of that name remain (a delete was interrupted). Remove them with 'faas streams delete {definition.Name}', then create it again.");
            }

            try
            {
                await document.UploadAsync(
                    new BinaryData(json),
                    new BlobUploadOptions
                    {
                        Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                        HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                    },
                    cancellationToken);
                return definition;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Someone created it between our look and our write: look again (it may be a deleting one).
                if (attempt >= 3)
                {
                    throw new EventLogException(EventLogErrorReason.StreamAlreadyExists, $"Stream '{definition.Name}' already exists.", ex);
                }
            }
        }
    }

    /// <summary>Reads a stream's definition. Throws <see cref="EventLogErrorReason.StreamNotFound"/>.</summary>
    public async Task<StreamDefinition> GetStreamAsync(string name, CancellationToken cancellationToken = default) =>
        await TryGetStreamAsync(name, cancellationToken)
        ?? throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{name}' does not exist in container '{Container.Name}'. Create it first (faas streams create {name} --partitions N).");

    /// <summary>Reads a stream's definition, or null when it does not exist.</summary>
    public async Task<StreamDefinition?> TryGetStreamAsync(string name, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(name, "stream");
        try
        {
            BlobDownloadResult result = (await Container.GetBlobClient(StoragePaths.StreamDocument(name)).DownloadContentAsync(cancellationToken)).Value;
            return IsDeleting(result.Details.Metadata) ? null : ParseStreamDocument(name, result.Content);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Lists all streams.</summary>
    public async IAsyncEnumerable<StreamDefinition> ListStreamsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        try
        {
            await foreach (BlobHierarchyItem item in Container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", StoragePaths.StreamsRoot, cancellationToken))
            {
                if (item.IsPrefix)
                {
                    names.Add(item.Prefix[StoragePaths.StreamsRoot.Length..].TrimEnd('/'));
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            yield break;
        }

        foreach (string name in names)
        {
            if (await TryGetStreamAsync(name, cancellationToken) is { } def)
            {
                yield return def;
            }
        }
    }

    /// <summary>
    /// Deletes a stream, its segments and every consumer group's checkpoints for it. The definition is first marked
    /// as deleting (from then on the stream does not exist for anyone) and removed last, so an interrupted delete is
    /// finished by the next delete or create. Without a definition, removes the leftovers of an earlier interrupted
    /// delete, each only if unchanged since it was listed.
    /// </summary>
    public async Task DeleteStreamAsync(string name, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(name, "stream");
        BlobClient document = Container.GetBlobClient(StoragePaths.StreamDocument(name));
        for (int attempt = 0; ; attempt++)
        {
            BlobProperties? props = await TryGetPropertiesAsync(document, cancellationToken);
            if (props is null)
            {
                if (!await DeleteLeftoversAsync(name, cancellationToken))
                {
                    throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{name}' does not exist.");
                }

                return;
            }

            ETag tombstone = props.ETag;
            if (!IsDeleting(props.Metadata))
            {
                try
                {
                    var metadata = new Dictionary<string, string>(props.Metadata) { [DeletingKey] = "true" };
                    tombstone = (await document.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = props.ETag }, cancellationToken)).Value.ETag;
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412 && attempt < 3)
                {
                    continue; // changed under us: look again
                }
            }

            await FinishDeleteAsync(name, tombstone, cancellationToken);
            return;
        }
    }

    /// <summary>Removes a deleting stream's segments and checkpoints, then its definition (only if still that tombstone).</summary>
    private async Task FinishDeleteAsync(string name, ETag tombstone, CancellationToken cancellationToken)
    {
        await DeleteBlobsAsync(StoragePaths.StreamPrefix(name), except: StoragePaths.StreamDocument(name), cancellationToken);
        foreach (string blob in await ListGroupBlobsAsync(name, cancellationToken))
        {
            await BreakLeaseAndDeleteAsync(blob, cancellationToken);
        }

        try
        {
            await Container.GetBlobClient(StoragePaths.StreamDocument(name)).DeleteAsync(conditions: new BlobRequestConditions { IfMatch = tombstone }, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Another deleter finished first.
        }
    }

    /// <summary>Deletes segments left by an interrupted delete, each only if its ETag is still the listed one. False when there were none.</summary>
    private async Task<bool> DeleteLeftoversAsync(string name, CancellationToken cancellationToken)
    {
        var blobs = new List<(string Name, ETag ETag)>();
        try
        {
            await foreach (BlobItem item in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, StoragePaths.StreamPrefix(name), cancellationToken))
            {
                if (item.Name == StoragePaths.StreamDocument(name))
                {
                    return false; // the stream exists again: nothing here is a leftover
                }

                blobs.Add((item.Name, item.Properties.ETag ?? ETag.All));
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }

        foreach ((string blob, ETag etag) in blobs)
        {
            try
            {
                await Container.GetBlobClient(blob).DeleteAsync(conditions: new BlobRequestConditions { IfMatch = etag }, cancellationToken: cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Gone, or written since it was listed (a new stream's segment): not ours to delete.
            }
        }

        return blobs.Count > 0;
    }

    private async Task<List<string>> ListGroupBlobsAsync(string stream, CancellationToken cancellationToken)
    {
        var groupBlobs = new List<string>();
        try
        {
            await foreach (BlobItem item in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, StoragePaths.GroupsRoot, cancellationToken))
            {
                string[] parts = item.Name.Split('/');
                if (parts.Length == 4 && parts[2] == stream)
                {
                    groupBlobs.Add(item.Name);
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return groupBlobs;
    }

    private async Task<bool> AnyBlobAsync(string prefix, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (Page<BlobItem> page in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).AsPages(pageSizeHint: 1))
            {
                return page.Values.Count > 0;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return false;
    }

    private static async Task<BlobProperties?> TryGetPropertiesAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private static bool IsDeleting(IDictionary<string, string> metadata) => metadata.ContainsKey(DeletingKey);

    /// <summary>
    /// Earliest retained offset, end offset, segments and bytes of every partition: one listing plus one
    /// small ranged read per non-empty partition.
    /// </summary>
    public async Task<IReadOnlyList<PartitionInfo>> GetPartitionsAsync(string stream, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        return await GetPartitionsAsync(def, cancellationToken);
    }

    internal async Task<IReadOnlyList<PartitionInfo>> GetPartitionsAsync(StreamDefinition def, CancellationToken cancellationToken)
    {
        Dictionary<int, List<SegmentInfo>> all = await ListAllSegmentsAsync(def.Name, cancellationToken);
        var tasks = new Task<PartitionInfo>[def.Partitions];
        for (int p = 0; p < def.Partitions; p++)
        {
            List<SegmentInfo> segments = all.TryGetValue(p, out List<SegmentInfo>? s) ? s : [];
            tasks[p] = DescribePartitionAsync(def.Name, p, segments, cancellationToken);
        }

        return await Task.WhenAll(tasks);
    }

    /// <summary>Describes one partition (one listing plus one small ranged read).</summary>
    public async Task<PartitionInfo> GetPartitionAsync(string stream, int partition, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        CheckPartition(def, partition);
        return await DescribePartitionAsync(stream, partition, await ListSegmentsAsync(stream, partition, cancellationToken), cancellationToken);
    }

    private async Task<PartitionInfo> DescribePartitionAsync(string stream, int partition, List<SegmentInfo> segments, CancellationToken cancellationToken)
    {
        PartitionTail tail = await ReadTailAsync(stream, partition, segments, cancellationToken);
        long earliest = segments.Count > 0 ? segments[0].BaseOffset : 0;
        return new PartitionInfo(partition, earliest, tail.NextOffset, segments.Count, segments.Sum(s => s.Length), segments.Count > 0 ? segments[^1].LastModified : null);
    }

    /// <summary>
    /// Lag of a consumer group: per partition end offset, checkpoint and lag, and the total.
    /// A partition without a checkpoint counts from <paramref name="initialOffset"/>.
    /// </summary>
    public async Task<LagReport> GetLagAsync(string stream, string group, InitialOffset initialOffset = InitialOffset.Earliest, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(group, "consumer group");
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        Task<IReadOnlyList<PartitionInfo>> partitionsTask = GetPartitionsAsync(def, cancellationToken);
        Task<IReadOnlyList<Checkpoint>> checkpointsTask = Checkpoints.ListAsync(group, stream, cancellationToken);
        IReadOnlyList<PartitionInfo> partitions = await partitionsTask;
        Dictionary<int, Checkpoint> checkpoints = (await checkpointsTask).ToDictionary(c => c.Partition);
        var rows = new List<PartitionLag>(partitions.Count);
        foreach (PartitionInfo p in partitions)
        {
            long? cp = checkpoints.TryGetValue(p.Partition, out Checkpoint? c) ? c.NextOffset : null;
            rows.Add(PartitionLag.Compute(p, cp, initialOffset));
        }

        return new LagReport(stream, group, rows);
    }

    /// <summary>
    /// Deletes whole segments past the stream's retention limits (never a partition's last, active segment).
    /// Returns the deleted segments.
    /// </summary>
    public async Task<IReadOnlyList<DeletedSegment>> ApplyRetentionAsync(string stream, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        var deleted = new List<DeletedSegment>();
        if (def.Retention.IsInfinite)
        {
            return deleted;
        }

        DateTimeOffset now = TimeProvider.GetUtcNow();
        foreach ((int partition, List<SegmentInfo> segments) in await ListAllSegmentsAsync(stream, cancellationToken))
        {
            long total = segments.Sum(s => s.Length);
            for (int i = 0; i < segments.Count - 1; i++)
            {
                SegmentInfo s = segments[i];
                bool expired = def.Retention.MaxAge is { } age && s.LastModified < now - age;
                bool overSize = def.Retention.MaxBytes is { } max && total > max;
                if (!expired && !overSize)
                {
                    break; // delete oldest first only, so the retained offsets stay contiguous
                }

                try
                {
                    await Container.GetBlobClient(s.BlobName).DeleteAsync(cancellationToken: cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    // Another retention run got there first.
                }

                total -= s.Length;
                deleted.Add(new DeletedSegment(partition, s.BaseOffset, segments[i + 1].BaseOffset, s.Length));
            }
        }

        return deleted;
    }

    /// <summary>
    /// Compacts an entity stream: in every partition, rewrites the closed segments keeping the latest event per key
    /// (see <see cref="CompactionOptions"/>; null = the stream's own deleteRetention and minCompactionLag). Offsets do not change; readers skip the gaps. Safe to run while
    /// producers append and consumers read, and to interrupt at any point (run it again to finish).
    /// </summary>
    public async Task<IReadOnlyList<PartitionCompaction>> CompactAsync(string stream, CompactionOptions? compaction = null, IProgress<PartitionCompaction>? progress = null, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        if (def.Kind != StreamKind.Entities)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{stream}' holds events, not entities: compaction keeps only the latest event per key, which would drop its events. Only streams created with kind 'entities' are compacted.");
        }

        var compactor = new Compactor(this, def, compaction ?? new CompactionOptions { DeleteRetention = def.DeleteRetention, MinCompactionLag = def.MinCompactionLag });
        var results = new List<PartitionCompaction>(def.Partitions);
        for (int p = 0; p < def.Partitions; p++)
        {
            PartitionCompaction result = await compactor.CompactPartitionAsync(p, cancellationToken);
            results.Add(result);
            progress?.Report(result);
        }

        return results;
    }

    internal static void CheckPartition(StreamDefinition def, int partition)
    {
        if (partition < 0 || partition >= def.Partitions)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{def.Name}' has partitions 0..{def.Partitions - 1}; partition {partition} does not exist.");
        }
    }

    internal Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (!options.CreateContainerIfMissing)
        {
            return Task.CompletedTask;
        }

        Task? ready = containerReady;
        if (ready is null || ready.IsFaulted || ready.IsCanceled)
        {
            ready = containerReady = Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }

        return ready;
    }

    internal async Task<List<SegmentInfo>> ListSegmentsAsync(string stream, int partition, CancellationToken cancellationToken) =>
        SegmentInfo.Resolve(await ListRawSegmentsAsync(stream, partition, cancellationToken));

    /// <summary>Every segment blob of a partition, including those a compacted segment supersedes.</summary>
    internal async Task<List<SegmentInfo>> ListRawSegmentsAsync(string stream, int partition, CancellationToken cancellationToken)
    {
        var list = new List<SegmentInfo>();
        try
        {
            await foreach (BlobItem item in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, StoragePaths.PartitionPrefix(stream, partition), cancellationToken))
            {
                if (SegmentInfo.TryCreate(item, out SegmentInfo s))
                {
                    list.Add(s);
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No container yet: no segments.
        }

        list.Sort((a, b) => a.BaseOffset.CompareTo(b.BaseOffset));
        return list;
    }

    internal async Task<Dictionary<int, List<SegmentInfo>>> ListAllSegmentsAsync(string stream, CancellationToken cancellationToken) =>
        (await ListStreamAsync(stream, cancellationToken)).Segments;

    /// <summary>
    /// One listing of a stream: its segments by partition, and the ETag of its definition (null when there is none or
    /// it is a deleting tombstone), so a poller learns of a delete or a re-create without another request.
    /// </summary>
    internal async Task<(Dictionary<int, List<SegmentInfo>> Segments, ETag? Definition)> ListStreamAsync(string stream, CancellationToken cancellationToken)
    {
        var all = new Dictionary<int, List<SegmentInfo>>();
        ETag? definition = null;
        string document = StoragePaths.StreamDocument(stream);
        try
        {
            await foreach (BlobItem item in Container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, StoragePaths.StreamPrefix(stream), cancellationToken))
            {
                if (item.Name == document)
                {
                    definition = IsDeleting(item.Metadata) ? null : item.Properties.ETag;
                }
                else if (SegmentInfo.TryCreate(item, out SegmentInfo s))
                {
                    if (!all.TryGetValue(s.Partition, out List<SegmentInfo>? list))
                    {
                        all[s.Partition] = list = [];
                    }

                    list.Add(s);
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        foreach (int p in all.Keys.ToList())
        {
            all[p] = SegmentInfo.Resolve(all[p]);
        }

        return (all, definition);
    }

    /// <summary>Finds a partition's end from its last segment: one ranged read of the last batch footer.</summary>
    internal async Task<PartitionTail> ReadTailAsync(string stream, int partition, List<SegmentInfo> segments, CancellationToken cancellationToken)
    {
        if (segments.Count == 0)
        {
            return new PartitionTail(null, 0, 0);
        }

        SegmentInfo last = segments[^1];
        if (last.Length == 0)
        {
            return new PartitionTail(last, last.BaseOffset, 0);
        }

        if (last.Length < BatchFormat.Overhead)
        {
            throw Corrupt(stream, partition, last.BaseOffset, last, last.Length, $"segment is {last.Length} bytes, shorter than one batch");
        }

        BinaryData bytes = (await Container.GetBlobClient(last.BlobName).DownloadContentAsync(
            new BlobDownloadOptions { Range = new HttpRange(last.Length - BatchFormat.FooterSize, BatchFormat.FooterSize) },
            cancellationToken)).Value.Content;
        BatchFooter footer = BatchFooter.Parse(bytes.ToMemory().Span, out string? error);
        if (error is not null || footer.BatchLength > last.Length || footer.NextOffset < last.BaseOffset)
        {
            throw Corrupt(stream, partition, last.BaseOffset, last, last.Length - BatchFormat.FooterSize, error ?? "last batch footer does not fit its segment");
        }

        return new PartitionTail(last with { BlockCount = footer.BlockIndex + 1 }, footer.NextOffset, footer.BlockIndex + 1);
    }

    /// <summary>
    /// Reads the batch header at a byte position of a segment (one 72-byte ranged GET). Returns null when nothing is
    /// there yet (the position is the segment's end), else the header and the parse error if the bytes are not one.
    /// </summary>
    internal async Task<(BatchHeader Header, string? Error)?> ReadHeaderAtAsync(SegmentInfo segment, long position, CancellationToken cancellationToken)
    {
        try
        {
            BinaryData data = (await Container.GetBlobClient(segment.BlobName).DownloadContentAsync(
                new BlobDownloadOptions { Range = new HttpRange(position, BatchFormat.HeaderSize) }, cancellationToken)).Value.Content;
            if (data.ToMemory().IsEmpty)
            {
                return null; // Azurite answers a range at the end with 206 and no bytes where Azure answers 416
            }

            BatchHeader header = BatchHeader.Parse(data.ToMemory().Span, out string? error);
            return (header, error);
        }
        catch (RequestFailedException ex) when (ex.Status == 416)
        {
            return null;
        }
    }

    /// <summary>Reads the footer of the batch that ends at <paramref name="position"/> (one 32-byte ranged GET); null if the bytes are not one.</summary>
    internal async Task<BatchFooter?> ReadFooterBeforeAsync(SegmentInfo segment, long position, CancellationToken cancellationToken)
    {
        BinaryData data = (await Container.GetBlobClient(segment.BlobName).DownloadContentAsync(
            new BlobDownloadOptions { Range = new HttpRange(position - BatchFormat.FooterSize, BatchFormat.FooterSize) }, cancellationToken)).Value.Content;
        BatchFooter footer = BatchFooter.Parse(data.ToMemory().Span, out string? error);
        return error is null ? footer : null;
    }

    internal static EventLogException Corrupt(string stream, int partition, long offset, SegmentInfo segment, long bytePosition, string why) =>
        new(
            EventLogErrorReason.CorruptData,
            $"Corrupt data in stream '{stream}' partition {partition} at offset {offset} (segment {segment.BlobName}, byte {bytePosition}): {why}. The read stopped; nothing was skipped.");

    internal static StreamDefinition ParseStreamDocument(string name, BinaryData content)
    {
        StreamDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<StreamDocument>(content.ToMemory().Span, StreamDocument.Json);
        }
        catch (JsonException ex)
        {
            throw new EventLogException(EventLogErrorReason.CorruptData, $"streams/{name}/stream.json is not valid JSON: {ex.Message}", ex);
        }

        if (doc is null || doc.FormatVersion != BatchFormat.FormatVersion)
        {
            throw new EventLogException(EventLogErrorReason.CorruptData, $"streams/{name}/stream.json has format version {doc?.FormatVersion}; this client understands {BatchFormat.FormatVersion}.");
        }

        return doc.ToDefinition();
    }

    private async Task DeleteBlobsAsync(string prefix, string? except, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        try
        {
            await foreach (BlobItem item in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
            {
                if (item.Name != except)
                {
                    names.Add(item.Name);
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return;
        }

        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (n, ct) =>
        {
            await Container.GetBlobClient(n).DeleteIfExistsAsync(cancellationToken: ct);
        });
    }

    private async Task BreakLeaseAndDeleteAsync(string blob, CancellationToken cancellationToken)
    {
        BlobClient client = Container.GetBlobClient(blob);
        try
        {
            await client.DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            await client.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: cancellationToken);
            await client.DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
    }

    private static string DescribeConnectionString(string connectionString)
    {
        if (connectionString.Contains("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase))
        {
            return "Azurite development storage (http://127.0.0.1:10000/devstoreaccount1)";
        }

        foreach (string part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq].Trim().Equals("BlobEndpoint", StringComparison.OrdinalIgnoreCase))
            {
                return part[(eq + 1)..].Trim() + " (connection string)";
            }
        }

        foreach (string part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq].Trim().Equals("AccountName", StringComparison.OrdinalIgnoreCase))
            {
                return $"account {part[(eq + 1)..].Trim()} (connection string)";
            }
        }

        return "storage account (connection string)";
    }
}
