using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using FaasEvents.Log.Events;
using FaasEvents.Log.Format;
using FaasEvents.Log.Schemas;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;
using FaasEvents.Log.Telemetry;

namespace FaasEvents.Log.Producer;

/// <summary>
/// Appends events to one stream. Keyed events go to <see cref="KeyPartitioner"/>'s partition; unkeyed events
/// stick to one partition until its batch is sent, then move on (Kafka's sticky partitioner), so small events
/// become full batches. Sends made in sequence (awaited or not, single or batch) are appended in call order within a
/// partition, across retries and ambiguous failures; when a batch fails, the later sends to its partition made before
/// the failure was reported fail too rather than overtake it. Thread-safe; dispose to flush.
/// </summary>
public sealed class EventProducerClient : IAsyncDisposable
{
    private readonly SegmentStore segments;
    private readonly StreamCatalog streams;
    private readonly EventProducerOptions options;
    private readonly Lock gate = new();
    private readonly Channel<Queued> intake = Channel.CreateUnbounded<Queued>(new UnboundedChannelOptions { SingleReader = true });
    private readonly uint epoch;
    private readonly ProducerSchemaGate schemaGate;
    private Task? dispatcher;
    private Task<StreamDefinition>? definition;
    private PartitionAppender?[] appenders = [];
    private int stickyPartition = -1;
    private long stickyBatchesSent;
    private long stickyBytes;
    private long tickets;
    private bool disposed;

    internal EventProducerClient(SegmentStore segments, StreamCatalog streams, string stream, EventProducerOptions? options)
    {
        StreamDefinition.ValidateName(stream, "stream");
        this.segments = segments;
        this.streams = streams;
        Stream = stream;
        this.options = options?.Clone() ?? new EventProducerOptions();
        ProducerId = this.options.ProducerId ?? Guid.NewGuid();
        epoch = Math.Max(1u, BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4)));
        Identity = this.options.Identity ?? segments.Store.Identity;
        schemaGate = new ProducerSchemaGate(new StreamSchemasClient(streams, segments.Store), segments.Store.TimeProvider, this.options.SchemaRefreshInterval, Identity);
    }

    /// <summary>The stream this producer appends to.</summary>
    public string Stream { get; }

    /// <summary>The identity this producer appends as (stamped on events as <c>faasproducer</c>; null: none).</summary>
    public string? Identity { get; }

    /// <summary>The producer id written into every batch.</summary>
    public Guid ProducerId { get; }

    /// <summary>
    /// Appends one event; completes when it is durably in the log. The event's place in the order is fixed when this
    /// method returns: cancelling stops the wait, not the append.
    /// </summary>
    public Task<EventPosition> SendAsync(LogEvent logEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        return First(Wait(Enqueue([logEvent], null), cancellationToken));
    }

    /// <summary>Appends one event to a given partition.</summary>
    public Task<EventPosition> SendAsync(LogEvent logEvent, int partition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        return First(Wait(Enqueue([logEvent], partition), cancellationToken));
    }

    /// <summary>
    /// Appends events; completes when all are in the log, with each one's position in input order.
    /// Every event is validated and size-checked before any is queued, so a bad event writes nothing.
    /// </summary>
    public Task<IReadOnlyList<EventPosition>> SendBatchAsync(IEnumerable<LogEvent> events, CancellationToken cancellationToken = default) =>
        SendBatchCoreAsync(events, null, cancellationToken);

    /// <summary>Appends events to one given partition, in order; see <see cref="SendBatchAsync(IEnumerable{LogEvent}, CancellationToken)"/>.</summary>
    public Task<IReadOnlyList<EventPosition>> SendBatchAsync(IEnumerable<LogEvent> events, int partition, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        return SendBatchCoreAsync(events, partition, cancellationToken);
    }

    /// <summary>
    /// Appends one event as write <paramref name="sequence"/> of this producer's stable <see cref="EventProducerOptions.ProducerId"/>
    /// (exactly-once sends): readers deliver each (producer id, sequence) of a partition once, so sending again after a
    /// crash or a timeout does not duplicate it. Sequences must grow with what the producer sends (e.g. an outbox
    /// position or a row version); one at or below a sequence already delivered in the partition is skipped by readers.
    /// </summary>
    public async Task<EventPosition> SendSequencedAsync(LogEvent logEvent, long sequence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        Guid writer = options.ProducerId ?? throw new EventLogException(EventLogErrorReason.InvalidArgument, "SendSequencedAsync(event, sequence) needs a stable producer id: set EventProducerOptions.ProducerId to the same GUID every time this producer starts.");
        return (await SendSequencedAsync([logEvent], [new WriterMark(writer, sequence)], cancellationToken))[0];
    }

    /// <summary>
    /// Appends events each marked with its writer and sequence (<see cref="WriterMark"/>): readers deliver each
    /// (writer, sequence) of a partition at most once, so a writer that sends the same events again (a re-run after a
    /// crash) does not duplicate them. One writer's sequences must grow in the order it sends them.
    /// </summary>
    public async Task<IReadOnlyList<EventPosition>> SendSequencedAsync(IReadOnlyList<LogEvent> events, IReadOnlyList<WriterMark> marks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(marks);
        if (marks.Count != events.Count)
        {
            throw new ArgumentException($"One mark per event: {events.Count} event(s), {marks.Count} mark(s).", nameof(marks));
        }

        foreach (WriterMark mark in marks)
        {
            if (mark.Writer == Guid.Empty || mark.Sequence < 0)
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Invalid writer mark {mark}: the writer id must not be empty and the sequence must not be negative.");
            }
        }

        return await Wait(Enqueue(events, null, marks), cancellationToken);
    }

    /// <summary>
    /// Appends events like <see cref="SendBatchAsync(IEnumerable{LogEvent}, CancellationToken)"/>, but reports each
    /// event's outcome instead of failing the whole call when part of it fails: events of different partitions are
    /// separate appends, so a failure in one partition leaves the others' events written. Within a partition an event
    /// after a failed one is never written. A bad event still throws before anything is queued.
    /// </summary>
    public async Task<IReadOnlyList<EventSendResult>> SendEachAsync(IEnumerable<LogEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        SendCall call = Enqueue([.. events], null);
        try
        {
            await Wait(call, cancellationToken);
        }
        catch (Exception) when (call.Completion.IsFaulted || cancellationToken.IsCancellationRequested)
        {
            // Reported per event below.
        }

        var canceled = new OperationCanceledException(cancellationToken);
        return [.. Enumerable.Range(0, call.Records.Length).Select(i => call.Outcome(i, canceled))];
    }

    /// <summary>
    /// Throws the <see cref="EventLogException"/> sending <paramref name="events"/> would be refused with by the stream's
    /// contract (<see cref="EventLogErrorReason.SchemaViolation"/>, <see cref="EventLogErrorReason.NotStreamOwner"/>),
    /// without sending anything; completes when they would be accepted.
    /// </summary>
    public async Task CheckAsync(IReadOnlyList<LogEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        StreamDefinition def = await GetDefinitionAsync().WaitAsync(cancellationToken); // the sends' cached definition: no request per check
        if (schemaGate.Refusal(await GetContractAsync(def), Stream, events) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>Waits until every event sent so far is appended (or failed).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            StartDispatcher();
            intake.Writer.TryWrite(new Queued(null, null, long.MaxValue, marker));
        }

        await marker.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Flushes and stops the producer.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? running;
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            intake.Writer.TryComplete();
            running = dispatcher;
        }

        if (running is not null)
        {
            await running;
        }

        PartitionAppender?[] current = appenders;
        foreach (PartitionAppender? a in current)
        {
            a?.Complete();
        }

        await Task.WhenAll(current.Where(a => a is not null).Select(a => a!.Completion));
        if (segments.Store.Notices is { } notices)
        {
            await notices.FlushAsync(TimeSpan.FromSeconds(1)); // a process that exits now has still told the server
        }
    }

    private async Task<IReadOnlyList<EventPosition>> SendBatchCoreAsync(IEnumerable<LogEvent> events, int? partition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        return await Wait(Enqueue([.. events], partition), cancellationToken);
    }

    private static Task<IReadOnlyList<EventPosition>> Wait(SendCall call, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? call.Completion.WaitAsync(cancellationToken) : call.Completion;

    private static async Task<EventPosition> First(Task<IReadOnlyList<EventPosition>> positions) => (await positions.ConfigureAwait(false))[0];

    /// <summary>
    /// Encodes every event (a bad one throws before anything is queued), then queues the call as one unit under the
    /// producer's lock: its place in the append order is fixed before it returns.
    /// </summary>
    private SendCall Enqueue(IReadOnlyList<LogEvent> events, int? partition, IReadOnlyList<WriterMark>? marks = null)
    {
        foreach (LogEvent e in events)
        {
            ArgumentNullException.ThrowIfNull(e);
        }

        if (events.Count == 0)
        {
            return new SendCall(events, []); // nothing to send: complete at once
        }

        Activity? send = ProducerActivity.Start(Stream, partition, events); // stamps the events' trace context before they are encoded
        var records = new EncodedRecord[events.Count];
        var call = new SendCall(events, records);
        if (schemaGate.TryGetFresh(out ProducerSchemaGate.Contract contract))
        {
            // The contract is known: check (and stamp) here, on the caller's thread, so the dispatcher only routes.
            call.Contract = contract;
            call.Refusal = contract.Applies(Identity) ? schemaGate.Check(contract, Stream, events) : null;
            call.Checked = call.Stamped = true;
            if (call.Refusal is { } refusal)
            {
                call.FailAll(refusal);
                ProducerActivity.StopWhenDone(send, call.Completion);
                return call;
            }
        }

        long now = segments.Store.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            if (events.Count == 1)
            {
                records[0] = new EncodedRecord(now, EventCodec.EncodeBody(events[0], now), marks?[0]);
            }
            else
            {
                ReadOnlyMemory<byte>[] bodies = EventCodec.EncodeBodies(events, now, out byte[] block); // one array for the call's events
                call.Holds(block);
                for (int i = 0; i < events.Count; i++)
                {
                    records[i] = new EncodedRecord(now, bodies[i], marks?[i]);
                }
            }

            lock (gate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                StartDispatcher();
                intake.Writer.TryWrite(new Queued(call, partition, ++tickets, null));
            }
        }
        catch (Exception ex)
        {
            ProducerActivity.StopWhenDone(send, Task.FromException(ex));
            throw;
        }

        ProducerActivity.StopWhenDone(send, call.Completion);
        return call;
    }

    private void StartDispatcher()
    {
        if (dispatcher is null)
        {
            // The dispatcher outlives the call that starts it: it must not run inside that caller's span (or other context).
            using (ExecutionContext.SuppressFlow())
            {
                dispatcher = Task.Run(DispatchAsync);
            }
        }
    }

    /// <summary>Moves queued calls, in call order, to their partitions' appenders (waiting for room when one is full).</summary>
    private async Task DispatchAsync()
    {
        await foreach (Queued q in intake.Reader.ReadAllAsync())
        {
            if (q.Flush is { } marker)
            {
                _ = FlushAppendersAsync(marker);
                continue;
            }

            SendCall call = q.Call!;
            StreamDefinition def;
            try
            {
                def = await GetDefinitionAsync();
                if (q.Partition is { } p)
                {
                    def.CheckPartition(p);
                }
            }
            catch (Exception ex)
            {
                call.FailAll(ex);
                continue;
            }

            if (!await ApplyContractAsync(call, def))
            {
                continue;
            }

            if (q.Partition is { } given)
            {
                await GetAppender(def, given).EnqueueAsync(call, null, q.Ticket);
                continue;
            }

            foreach ((int partition, int[]? indices) in Route(call, def))
            {
                await GetAppender(def, partition).EnqueueAsync(call, indices, q.Ticket);
            }
        }
    }

    /// <summary>
    /// Checks a call that was not checked on its caller's thread (the contract was not known yet), all its events
    /// against one version, and stamps its records; false (and the call failed) when it is refused.
    /// </summary>
    private async Task<bool> ApplyContractAsync(SendCall call, StreamDefinition def)
    {
        try
        {
            if (!call.Checked)
            {
                call.Contract = await GetContractAsync(def);
                call.Refusal = call.Contract.Applies(Identity) ? schemaGate.Check(call.Contract, Stream, call.Events) : null;
                call.Checked = true;
            }

            if (call.Refusal is null && call.Contract.Applies(Identity) && !call.Stamped)
            {
                for (int i = 0; i < call.Records.Length; i++)
                {
                    EncodedRecord r = call.Records[i];
                    call.Records[i] = new EncodedRecord(r.Timestamp, EventCodec.EncodeBody(call.Events[i], r.Timestamp), r.Mark); // with its dataschema and producer
                }

                call.Stamped = true;
            }
        }
        catch (Exception ex)
        {
            call.Refusal ??= ex as EventLogException ?? new EventLogException(EventLogErrorReason.InvalidSchema, $"The schema of stream '{Stream}' cannot be used to check events ({ex.Message.Split('\n')[0]}); nothing of the call was written.", ex);
        }

        if (call.Refusal is { } refusal)
        {
            call.FailAll(refusal); // never written unchecked
            return false;
        }

        return true;
    }

    /// <summary>
    /// The call's events per partition, each partition's in call order (null indices: all of them): keyed events to
    /// their key's partition, unkeyed ones to the sticky partition.
    /// </summary>
    private List<(int Partition, int[]? Indices)> Route(SendCall call, StreamDefinition def)
    {
        int count = call.Records.Length;
        var partitions = new int[count];
        bool one = true;
        for (int i = 0; i < count; i++)
        {
            partitions[i] = call.Events[i].PartitionKey is { } key ? KeyPartitioner.GetPartition(key, def.Partitions) : NextStickyPartition(def, call.Records[i].Body.Length);
            one &= partitions[i] == partitions[0];
        }

        if (one)
        {
            return [(partitions[0], null)];
        }

        var routes = new List<(int Partition, int[]? Indices)>();
        foreach (IGrouping<int, int> group in Enumerable.Range(0, count).GroupBy(i => partitions[i]))
        {
            routes.Add((group.Key, [.. group]));
        }

        return routes;
    }

    private async Task FlushAppendersAsync(TaskCompletionSource marker)
    {
        PartitionAppender?[] current;
        lock (gate)
        {
            current = appenders;
        }

        try
        {
            await Task.WhenAll(current.Where(a => a is not null).Select(a => a!.FlushAsync(CancellationToken.None)));
            marker.TrySetResult();
        }
        catch (Exception ex)
        {
            marker.TrySetException(ex);
        }
    }

    private long CurrentTicket()
    {
        lock (gate)
        {
            return tickets + 1;
        }
    }

    private int NextStickyPartition(StreamDefinition def, int size)
    {
        lock (gate)
        {
            bool batchSent = stickyPartition >= 0 && appenders.Length > stickyPartition && appenders[stickyPartition] is { } a && a.BatchesSent != stickyBatchesSent;
            if (stickyPartition < 0 || batchSent || stickyBytes + size > options.MaxBatchBytes)
            {
                // A batch's worth went to the sticky partition (or it sent one): the next batch goes to the next partition.
                stickyPartition = stickyPartition < 0 ? segments.Store.Random.Next(def.Partitions) : (stickyPartition + 1) % def.Partitions;
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
            if (appenders.Length != def.Partitions)
            {
                Array.Resize(ref appenders, def.Partitions);
            }

            return appenders[partition] ??= PartitionAppender.Start(segments, streams, def, partition, ProducerId, epoch, options, CurrentTicket);
        }
    }

    private Task<StreamDefinition> GetDefinitionAsync()
    {
        if (definition is null || definition.IsFaulted || definition.IsCanceled)
        {
            definition = streams.GetStreamAsync(Stream, CancellationToken.None);
        }

        return definition;
    }

    /// <summary>
    /// The stream's contract (schema, owner), waiting out storage failures for up to ~30 s: without it the events
    /// cannot be checked, so they are not written unchecked.
    /// </summary>
    private async Task<ProducerSchemaGate.Contract> GetContractAsync(StreamDefinition def)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await schemaGate.GetAsync(def);
            }
            catch (Exception ex) when (attempt < 8 && ex is Azure.RequestFailedException or HttpRequestException or IOException or TimeoutException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 << attempt)), segments.Store.TimeProvider);
            }
            catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException or TimeoutException)
            {
                throw new EventLogException(EventLogErrorReason.StorageFailure, $"Could not read the contract (schema, owner) of stream '{Stream}' ({ex.Message.Split('\n')[0]}); nothing of the call was written. Send it again.", ex);
            }
        }
    }

    /// <summary>One queued send call, or a flush marker.</summary>
    private sealed record Queued(SendCall? Call, int? Partition, long Ticket, TaskCompletionSource? Flush);
}
