using System.Runtime.CompilerServices;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using FaasEvents.Log.Compaction;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.DeadLetters;
using FaasEvents.Log.Events;
using FaasEvents.Log.Groups;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Schemas;
using FaasEvents.Log.State;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log;

/// <summary>
/// Entry point to a FaasEvents event log kept in one blob container: streams, producers, readers,
/// consumer-group checkpoints, partition leases, lag and retention.
/// </summary>
public sealed class EventLogClient
{
    /// <summary>The development storage connection string (Azurite on its default ports).</summary>
    public const string DevelopmentStorage = "UseDevelopmentStorage=true";

    private readonly SegmentStore segments;
    private readonly StreamCatalog streams;
    private readonly StreamPassRecorder passes;

    /// <summary>Connects with a storage connection string (Azurite: <c>UseDevelopmentStorage=true</c>).</summary>
    public EventLogClient(string connectionString, EventLogClientOptions? options = null)
        : this(new BlobServiceClient(connectionString, options?.StorageOptions), options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        StorageDescription = ConnectionStrings.Describe(connectionString);
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
        options = options?.Clone() ?? new EventLogClientOptions();
        Container = serviceClient.GetBlobContainerClient(options.ContainerName);
        StorageDescription = serviceClient.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        var store = new LogStore(Container, options);
        segments = new SegmentStore(store);
        streams = new StreamCatalog(store);
        passes = new StreamPassRecorder(store);
        Checkpoints = new CheckpointStore(store);
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

    /// <summary>Consumer-group administration: list, describe, reset, delete.</summary>
    public ConsumerGroupsClient Groups => new(this, segments.Store);

    /// <summary>Streams' contracts: versioned JSON Schemas and compatibility modes.</summary>
    public StreamSchemasClient Schemas => new(streams, segments.Store);

    /// <summary>
    /// One partition of <paramref name="stream"/> consumed as a queue by <paramref name="group"/> (acquire, settle; no
    /// coordinator), with at most <paramref name="window"/> events in flight or settled out of order above its settled
    /// offset. The queue belongs to the stream as it exists now: one deleted and created again starts a new queue.
    /// </summary>
    public async Task<Queues.PartitionQueue> OpenQueueAsync(string group, string stream, int partition, int window = 1000, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(group, "group");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        def.CheckPartition(partition);
        return new Queues.PartitionQueue(segments.Store, group, def, partition, ct => streams.TryGetStreamAsync(stream, ct)) { Window = window };
    }

    /// <summary>Every partition's queue state of a queue-consumed group, by partition (null where nothing consumed it yet): one read per partition.</summary>
    public async Task<IReadOnlyList<Queues.QueueState?>> GetQueueStatesAsync(string group, string stream, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(group, "consumer group");
        return await GetQueueStatesAsync(await GetStreamAsync(stream, cancellationToken), group, cancellationToken);
    }

    /// <summary>Every partition's queue state of <paramref name="group"/> on the stream as <paramref name="def"/> defines it.</summary>
    internal async Task<IReadOnlyList<Queues.QueueState?>> GetQueueStatesAsync(StreamDefinition def, string group, CancellationToken cancellationToken) =>
        await Task.WhenAll(Enumerable.Range(0, def.Partitions).Select(p => new Queues.PartitionQueue(segments.Store, group, def, p, ct => streams.TryGetStreamAsync(def.Name, ct)).TryGetStateAsync(cancellationToken)));

    /// <summary>
    /// Lag of a group that consumes <paramref name="stream"/> as a queue: per partition the events not settled yet (a
    /// partition nothing consumed counts from <paramref name="initialOffset"/>).
    /// </summary>
    public async Task<LagReport> GetQueueLagAsync(string stream, string group, InitialOffset initialOffset = InitialOffset.Earliest, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(group, "consumer group");
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        Task<IReadOnlyList<Queues.QueueState?>> states = GetQueueStatesAsync(group, stream, cancellationToken);
        IReadOnlyList<PartitionInfo> partitions = await segments.DescribePartitionsAsync(def, cancellationToken);
        IReadOnlyList<Queues.QueueState?> queues = await states;
        return new LagReport(stream, group, partitions.Select(p => PartitionLag.ForQueue(p, queues[p.Partition], initialOffset)).ToList());
    }

    /// <summary>Dead letters of consumer groups: list, replay.</summary>
    public DeadLettersClient DeadLetters => new(this);

    /// <summary>The storage layer's segment access (for tests and benchmarks that look below the facade).</summary>
    internal SegmentStore Segments => segments;

    /// <summary>Creates a lease client acting for <paramref name="ownerId"/> (an instance id).</summary>
    public PartitionLeaseClient CreateLeaseClient(string ownerId) => new(segments.Store, ownerId);

    /// <summary>Creates a tracker of <paramref name="stream"/>'s end offsets for pollers (one listing per refresh).</summary>
    public EndOffsetTracker CreateEndOffsetTracker(string stream) => new(segments, streams, stream);

    /// <summary>Creates the exactly-once state store of one partition for a consumer group (e.g. a materializer).</summary>
    public PartitionStateStore CreateStateStore(string group, string stream, int partition) => new(segments.Store, Checkpoints, group, stream, partition);

    /// <summary>Reads a group's committed keyed state (a materializer's table) without owning partitions.</summary>
    public StateReader CreateStateReader(string group, string stream) => new(segments.Store, streams, Checkpoints, group, stream);

    /// <summary>The streams a consumer group keeps state for (a materializer's source streams).</summary>
    public Task<IReadOnlyList<string>> FindStateStreamsAsync(string group, CancellationToken cancellationToken = default) =>
        StateReader.FindStreamsAsync(segments.Store, group, cancellationToken);

    /// <summary>Creates a producer for <paramref name="stream"/>.</summary>
    public EventProducerClient CreateProducer(string stream, EventProducerOptions? producerOptions = null) =>
        new(segments, streams, stream, producerOptions);

    /// <summary>One shared producer per stream, created on first use with <paramref name="producerOptions"/>.</summary>
    public EventProducerPool CreateProducerPool(EventProducerOptions? producerOptions = null) =>
        new(stream => CreateProducer(stream, producerOptions));

    /// <summary>
    /// Tells this process's following readers of <paramref name="stream"/> that events were appended to
    /// <paramref name="partitions"/> elsewhere (e.g. a notice from the server about another process's append), so they
    /// read now instead of at their next poll. Appends made through any client of this process need no announcement.
    /// </summary>
    public void AnnounceAppended(string stream, IEnumerable<int> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        foreach (int p in partitions)
        {
            segments.Store.Bell.Ring(Container.Uri, stream, p);
        }
    }

    /// <summary>
    /// Completes when this process next learns of an append to <paramref name="partition"/> of <paramref name="stream"/>:
    /// one made through any client of this process, or one announced (<see cref="AnnounceAppended"/>, the server's
    /// notices via <see cref="FollowServerNoticesAsync"/>). Take it before looking at the partition's end, so an append in
    /// between is not missed; cancelling stops the wait only. Without a token every waiter of the partition shares one
    /// task, so waiting on many partitions with <see cref="Task.WhenAny(IEnumerable{Task})"/> holds nothing once it returns.
    /// </summary>
    public Task NextAppendAsync(string stream, int partition, CancellationToken cancellationToken = default)
    {
        Task next = segments.Store.Bell.Next(Container.Uri, stream, partition);
        return cancellationToken.CanBeCanceled ? next.WaitAsync(cancellationToken) : next;
    }

    /// <summary>
    /// Follows the append notices the server (<see cref="EventLogClientOptions.ServerUrl"/>) sends for
    /// <paramref name="stream"/> and wakes this process's readers of the partitions named, until cancelled; reconnects on
    /// its own and tells <paramref name="problem"/> once per outage. Completes at once when no server is configured.
    /// </summary>
    public Task FollowServerNoticesAsync(string stream, Action<string>? problem = null, CancellationToken cancellationToken = default) =>
        segments.Store.Notices is { } notices
            ? notices.FollowAsync(stream, partitions => AnnounceAppended(stream, partitions), problem, cancellationToken)
            : Task.CompletedTask;

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
        def.CheckPartition(partition);
        var reader = new PartitionReader(segments, def, partition, readOptions ?? new ReadOptions());
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
    public Task<StreamDefinition> CreateStreamAsync(StreamDefinition definition, CancellationToken cancellationToken = default) =>
        streams.CreateStreamAsync(definition, cancellationToken);

    /// <summary>Reads a stream's definition. Throws <see cref="EventLogErrorReason.StreamNotFound"/>.</summary>
    public Task<StreamDefinition> GetStreamAsync(string name, CancellationToken cancellationToken = default) =>
        streams.GetStreamAsync(name, cancellationToken);

    /// <summary>Reads a stream's definition, or null when it does not exist.</summary>
    public Task<StreamDefinition?> TryGetStreamAsync(string name, CancellationToken cancellationToken = default) =>
        streams.TryGetStreamAsync(name, cancellationToken);

    /// <summary>Lists all streams.</summary>
    public IAsyncEnumerable<StreamDefinition> ListStreamsAsync(CancellationToken cancellationToken = default) =>
        streams.ListStreamsAsync(cancellationToken);

    /// <summary>
    /// Deletes a stream, its segments and every consumer group's checkpoints for it. The definition is first marked
    /// as deleting (from then on the stream does not exist for anyone) and removed last, so an interrupted delete is
    /// finished by the next delete or create. Without a definition, removes the leftovers of an earlier interrupted
    /// delete, each only if unchanged since it was listed.
    /// </summary>
    public Task DeleteStreamAsync(string name, CancellationToken cancellationToken = default) =>
        streams.DeleteStreamAsync(name, cancellationToken);

    /// <summary>
    /// Earliest retained offset, end offset, segments and bytes of every partition: one listing plus one
    /// small ranged read per non-empty partition.
    /// </summary>
    public async Task<IReadOnlyList<PartitionInfo>> GetPartitionsAsync(string stream, CancellationToken cancellationToken = default) =>
        await segments.DescribePartitionsAsync(await GetStreamAsync(stream, cancellationToken), cancellationToken);

    /// <summary>Describes one partition (one listing plus one small ranged read).</summary>
    public async Task<PartitionInfo> GetPartitionAsync(string stream, int partition, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        def.CheckPartition(partition);
        return await segments.DescribePartitionAsync(stream, partition, await segments.ListSegmentsAsync(stream, partition, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Lag of a consumer group: per partition end offset, checkpoint and lag, and the total.
    /// A partition without a checkpoint counts from <paramref name="initialOffset"/>.
    /// </summary>
    public async Task<LagReport> GetLagAsync(string stream, string group, InitialOffset initialOffset = InitialOffset.Earliest, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(group, "consumer group");
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        Task<IReadOnlyList<PartitionInfo>> partitionsTask = segments.DescribePartitionsAsync(def, cancellationToken);
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
    /// Returns the deleted segments. The pass is recorded for <see cref="GetLastPassesAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<DeletedSegment>> ApplyRetentionAsync(string stream, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await GetStreamAsync(stream, cancellationToken);
        try
        {
            IReadOnlyList<DeletedSegment> deleted = await new RetentionEnforcer(segments).ApplyAsync(def, cancellationToken);
            await passes.RecordAsync(def, new StreamPass(StreamPass.Retention, Now, deleted.Count, deleted.Sum(d => d.NextOffset - d.BaseOffset), deleted.Sum(d => d.Bytes), null));
            return deleted;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await passes.RecordAsync(def, new StreamPass(StreamPass.Retention, Now, 0, 0, 0, ex.Message.Split('\n')[0]));
            throw;
        }
    }

    /// <summary>The last recorded retention and compaction passes over the stream (none yet: empty).</summary>
    public async Task<IReadOnlyList<StreamPass>> GetLastPassesAsync(string stream, CancellationToken cancellationToken = default) =>
        await passes.ReadAsync(await GetStreamAsync(stream, cancellationToken), cancellationToken);

    private DateTimeOffset Now => segments.Store.TimeProvider.GetUtcNow();

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

        var compactor = new Compactor(segments, streams, def, compaction ?? new CompactionOptions { DeleteRetention = def.DeleteRetention, MinCompactionLag = def.MinCompactionLag });
        var results = new List<PartitionCompaction>(def.Partitions);
        try
        {
            for (int p = 0; p < def.Partitions; p++)
            {
                PartitionCompaction result = await compactor.CompactPartitionAsync(p, cancellationToken);
                results.Add(result);
                progress?.Report(result);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await passes.RecordAsync(def, new StreamPass(StreamPass.Compaction, Now, 0, 0, 0, ex.Message.Split('\n')[0]));
            throw;
        }

        await passes.RecordAsync(def, new StreamPass(StreamPass.Compaction, Now, results.Sum(r => r.EventsRead > r.EventsKept ? r.SegmentsIn : 0), results.Sum(r => r.EventsRead - r.EventsKept), results.Sum(r => r.BytesBefore - r.BytesAfter), null));
        return results;
    }
}
