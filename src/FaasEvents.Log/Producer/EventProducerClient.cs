using FaasEvents.Log.Format;

namespace FaasEvents.Log;

/// <summary>
/// Appends events to one stream. Keyed events go to <see cref="KeyPartitioner"/>'s partition; unkeyed events
/// stick to one partition until its batch is sent, then move on (Kafka's sticky partitioner), so small events
/// become full batches. Events sent to one partition are appended in the order they were sent.
/// Thread-safe; dispose to flush.
/// </summary>
public sealed class EventProducerClient : IAsyncDisposable
{
    private readonly EventLogClient log;
    private readonly EventProducerOptions options;
    private readonly Lock gate = new();
    private Task<StreamDefinition>? definition;
    private PartitionAppender?[] appenders = [];
    private int stickyPartition = -1;
    private long stickyBatchesSent;
    private long stickyBytes;
    private bool disposed;

    internal EventProducerClient(EventLogClient log, string stream, EventProducerOptions? options)
    {
        StreamDefinition.ValidateName(stream, "stream");
        this.log = log;
        Stream = stream;
        this.options = options?.Clone() ?? new EventProducerOptions();
        ProducerId = this.options.ProducerId ?? Guid.NewGuid();
    }

    /// <summary>The stream this producer appends to.</summary>
    public string Stream { get; }

    /// <summary>The producer id written into every batch.</summary>
    public Guid ProducerId { get; }

    /// <summary>Appends one event; completes when it is durably in the log.</summary>
    public async Task<EventPosition> SendAsync(LogEvent logEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        StreamDefinition def = await GetDefinitionAsync(cancellationToken);
        return await (await EnqueueAsync(def, logEvent, null, cancellationToken));
    }

    /// <summary>Appends one event to a given partition.</summary>
    public async Task<EventPosition> SendAsync(LogEvent logEvent, int partition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        StreamDefinition def = await GetDefinitionAsync(cancellationToken);
        EventLogClient.CheckPartition(def, partition);
        return await (await EnqueueAsync(def, logEvent, partition, cancellationToken));
    }

    /// <summary>
    /// Appends events; completes when all are in the log, with each one's position in input order.
    /// Every event is validated and size-checked before any is queued, so a bad event writes nothing.
    /// </summary>
    public Task<IReadOnlyList<EventPosition>> SendBatchAsync(IEnumerable<LogEvent> events, CancellationToken cancellationToken = default) =>
        SendBatchCoreAsync(events, null, cancellationToken);

    /// <summary>Appends events to one given partition, in order; see <see cref="SendBatchAsync(IEnumerable{LogEvent}, CancellationToken)"/>.</summary>
    public Task<IReadOnlyList<EventPosition>> SendBatchAsync(IEnumerable<LogEvent> events, int partition, CancellationToken cancellationToken = default) =>
        SendBatchCoreAsync(events, partition, cancellationToken);

    private async Task<IReadOnlyList<EventPosition>> SendBatchCoreAsync(IEnumerable<LogEvent> events, int? partition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        StreamDefinition def = await GetDefinitionAsync(cancellationToken);
        if (partition is { } p)
        {
            EventLogClient.CheckPartition(def, p);
        }

        long now = log.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var encoded = new List<(LogEvent Event, EncodedRecord Record)>();
        foreach (LogEvent e in events)
        {
            encoded.Add((e, new EncodedRecord(now, EventCodec.EncodeBody(e, now))));
        }

        var pending = new Task<EventPosition>[encoded.Count];
        for (int i = 0; i < encoded.Count; i++)
        {
            pending[i] = await EnqueueEncodedAsync(def, encoded[i].Event, encoded[i].Record, partition, cancellationToken);
        }

        return await Task.WhenAll(pending);
    }

    /// <summary>Waits until every event sent so far is appended (or failed).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        PartitionAppender?[] current;
        lock (gate)
        {
            current = appenders;
        }

        await Task.WhenAll(current.Where(a => a is not null).Select(a => a!.FlushAsync(cancellationToken)));
    }

    /// <summary>Flushes and stops the producer.</summary>
    public async ValueTask DisposeAsync()
    {
        PartitionAppender?[] current;
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            current = appenders;
        }

        foreach (PartitionAppender? a in current)
        {
            a?.Complete();
        }

        await Task.WhenAll(current.Where(a => a is not null).Select(a => a!.Completion));
    }

    private async Task<Task<EventPosition>> EnqueueAsync(StreamDefinition def, LogEvent e, int? partition, CancellationToken cancellationToken)
    {
        long now = log.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var record = new EncodedRecord(now, EventCodec.EncodeBody(e, now));
        return await EnqueueEncodedAsync(def, e, record, partition, cancellationToken);
    }

    private async Task<Task<EventPosition>> EnqueueEncodedAsync(StreamDefinition def, LogEvent e, EncodedRecord record, int? partition, CancellationToken cancellationToken)
    {
        int p = partition ?? (e.PartitionKey is { } key ? KeyPartitioner.GetPartition(key, def.Partitions) : NextStickyPartition(def, record.Body.Length));
        PartitionAppender appender = GetAppender(def, p);
        return await appender.EnqueueAsync(record, cancellationToken);
    }

    private int NextStickyPartition(StreamDefinition def, int size)
    {
        lock (gate)
        {
            bool batchSent = stickyPartition >= 0 && appenders.Length > stickyPartition && appenders[stickyPartition] is { } a && a.BatchesSent != stickyBatchesSent;
            if (stickyPartition < 0 || batchSent || stickyBytes + size > options.MaxBatchBytes)
            {
                // A batch's worth went to the sticky partition (or it sent one): the next batch goes to the next partition.
                stickyPartition = stickyPartition < 0 ? Random.Shared.Next(def.Partitions) : (stickyPartition + 1) % def.Partitions;
                stickyBatchesSent = appenders.Length > stickyPartition && appenders[stickyPartition] is { } b ? b.BatchesSent : 0;
                stickyBytes = 0;
            }

            stickyBytes += size;
            return stickyPartition;
        }
    }

    private PartitionAppender GetAppender(StreamDefinition def, int partition)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (appenders.Length != def.Partitions)
            {
                Array.Resize(ref appenders, def.Partitions);
            }

            return appenders[partition] ??= new PartitionAppender(log, def, partition, ProducerId, options);
        }
    }

    private Task<StreamDefinition> GetDefinitionAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (definition is null || definition.IsFaulted || definition.IsCanceled)
            {
                definition = log.GetStreamAsync(Stream, cancellationToken);
            }

            return definition;
        }
    }
}
