using System.Buffers;
using System.Threading.Channels;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Format;
using FaasEvents.Log.Retry;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Producer;

/// <summary>
/// Batches and appends the events of one partition, one append in flight at a time (so order is kept).
/// Implements the append protocol of docs/storage-format.md: conditional on the append position,
/// renumbered after a conflict, idempotent after an ambiguous failure, rolling full segments race-free.
/// </summary>
internal sealed class PartitionAppender
{
    private readonly SegmentStore segments;
    private readonly StreamCatalog streams;
    private readonly StreamDefinition def;
    private readonly int partition;
    private readonly Guid producerId;
    private readonly EventProducerOptions options;
    private readonly Channel<Pending> channel = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock roomGate = new();
    private readonly uint producerEpoch;
    private readonly Func<long> currentTicket;
    private PartitionTail? tail;
    private long failedBefore = long.MinValue;
    private Exception? lastFailure;
    private long sequence;
    private long batchesSent;
    private int queuedEvents;
    private TaskCompletionSource? room;

    /// <param name="segments">The partition's segments.</param>
    /// <param name="streams">Stream definitions (to tell a deleted stream from a lost segment).</param>
    /// <param name="def">The stream.</param>
    /// <param name="partition">The partition.</param>
    /// <param name="producerId">The producer id written into each batch.</param>
    /// <param name="producerEpoch">This producer instance's random epoch: an old incarnation of a fixed id never passes for it.</param>
    /// <param name="options">Producer options.</param>
    /// <param name="currentTicket">The producer's call counter: events with a smaller ticket were sent before "now".</param>
    private PartitionAppender(SegmentStore segments, StreamCatalog streams, StreamDefinition def, int partition, Guid producerId, uint producerEpoch, EventProducerOptions options, Func<long> currentTicket)
    {
        this.segments = segments;
        this.streams = streams;
        this.def = def;
        this.partition = partition;
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.currentTicket = currentTicket;
        this.options = options;
    }

    /// <summary>Completes when the appender has stopped (after <see cref="Start"/>).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Creates the appender of one partition and starts its append loop.</summary>
    public static PartitionAppender Start(SegmentStore segments, StreamCatalog streams, StreamDefinition def, int partition, Guid producerId, uint producerEpoch, EventProducerOptions options, Func<long> currentTicket)
    {
        var appender = new PartitionAppender(segments, streams, def, partition, producerId, producerEpoch, options, currentTicket);
        appender.Completion = Task.Run(appender.RunAsync);
        return appender;
    }

    public long BatchesSent => Interlocked.Read(ref batchesSent);

    /// <summary>
    /// Queues a call's events for this partition (<paramref name="indices"/>, in call order; null: all of the call's),
    /// first waiting until the partition holds fewer than <see cref="EventProducerOptions.MaxPendingEventsPerPartition"/>
    /// events with them (a call larger than that waits until the partition holds none). The call learns their outcome.
    /// Called by the producer's one dispatcher, in call order.
    /// </summary>
    public async ValueTask EnqueueAsync(SendCall call, int[]? indices, long ticket)
    {
        var pending = new Pending(call, indices, ticket, null);
        int count = pending.Count;
        while (true)
        {
            Task freed;
            lock (roomGate)
            {
                if (queuedEvents == 0 || queuedEvents + count <= options.MaxPendingEventsPerPartition)
                {
                    queuedEvents += count;
                    break;
                }

                room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                freed = room.Task;
            }

            await freed;
        }

        if (!channel.Writer.TryWrite(pending))
        {
            Release(count);
            call.Failed(new ObjectDisposedException($"The producer for stream '{def.Name}' was disposed."), indices, 0, count);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var marker = new Pending(null, null, long.MaxValue, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (channel.Writer.TryWrite(marker))
        {
            await marker.Marker!.Task.WaitAsync(cancellationToken);
        }
    }

    public void Complete() => channel.Writer.TryComplete();

    /// <summary><paramref name="count"/> queued events left the queue (into a batch, or failed): room for more.</summary>
    private void Release(int count)
    {
        TaskCompletionSource? freed;
        lock (roomGate)
        {
            queuedEvents -= count;
            freed = room;
            room = null;
        }

        freed?.TrySetResult();
    }

    private async Task RunAsync()
    {
        ChannelReader<Pending> reader = channel.Reader;
        var slices = new List<Slice>();
        var records = new List<EncodedRecord>();
        var markers = new List<Pending>();
        while (await reader.WaitToReadAsync())
        {
            int bytes = BatchFormat.Overhead;
            DateTimeOffset? deadline = null;
            while (true)
            {
                if (reader.TryPeek(out Pending? next))
                {
                    if (next.Marker is not null)
                    {
                        reader.TryRead(out _);
                        markers.Add(next);
                        break;
                    }

                    int from = next.Taken;
                    if (next.Ticket < failedBefore)
                    {
                        // Sent before an earlier batch's failure was reported: appending it now would overtake that batch.
                        reader.TryRead(out _);
                        Release(next.Count - from);
                        next.Call!.Failed(EarlierBatchFailed(), next.Indices, from, next.Count - from);
                        continue;
                    }

                    bool full = false;
                    int k = from;
                    for (; k < next.Count; k++)
                    {
                        EncodedRecord record = next.Record(k);
                        int size = BatchFormat.RecordPrefixSize + (record.Mark is null ? 0 : Varint.MaxLength) + record.Body.Length;
                        if (records.Count > 0 && (bytes + size > options.MaxBatchBytes || record.Mark?.Writer != records[0].Mark?.Writer))
                        {
                            full = true; // full, or another writer's records: a sequenced batch is one writer's
                            break;
                        }

                        records.Add(record);
                        bytes += size;
                    }

                    if (k > from)
                    {
                        slices.Add(new Slice(next, from, k - from));
                        next.Taken = k;
                        Release(k - from);
                    }

                    if (k == next.Count)
                    {
                        reader.TryRead(out _); // the rest of a call that did not fit stays first in line for the next batch
                    }

                    if (full)
                    {
                        break;
                    }

                    continue;
                }

                if (records.Count == 0 || options.Linger == TimeSpan.Zero)
                {
                    break;
                }

                DateTimeOffset now = segments.Store.TimeProvider.GetUtcNow();
                deadline ??= now + options.Linger;
                TimeSpan remaining = deadline.Value - now;
                if (remaining <= TimeSpan.Zero || !await WaitForMoreAsync(reader, remaining))
                {
                    break;
                }
            }

            if (records.Count > 0)
            {
                await SendAsync(slices, [.. records]);
                slices.Clear();
                records.Clear();
            }

            foreach (Pending m in markers)
            {
                m.Marker!.TrySetResult();
            }

            markers.Clear();
        }
    }

    private EventLogException EarlierBatchFailed() =>
        new(
            EventLogErrorReason.StorageFailure,
            $"Not appended to stream '{def.Name}' partition {partition}: an earlier batch of this producer failed ({lastFailure?.Message}), and this event was sent before that failure was reported; it was failed too so that nothing overtakes the failed batch. Send it again after handling the failure.",
            lastFailure);

    private async Task<bool> WaitForMoreAsync(ChannelReader<Pending> reader, TimeSpan remaining)
    {
        using var cts = new CancellationTokenSource();
        Task<bool> more = reader.WaitToReadAsync(cts.Token).AsTask();
        Task delay = Task.Delay(remaining, segments.Store.TimeProvider, cts.Token);
        Task first = await Task.WhenAny(more, delay);
        await cts.CancelAsync();
        return first == more && more.IsCompletedSuccessfully && more.Result;
    }

    private async Task SendAsync(List<Slice> slices, EncodedRecord[] records)
    {
        int length = BatchFormat.GetBatchLength(records);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        long baseOffset;
        try
        {
            baseOffset = await AppendAsync(records, buffer, length, ++sequence);
        }
        catch (Exception ex)
        {
            tail = null;
            lastFailure = ex;
            failedBefore = currentTicket(); // every event sent before this failure is reported fails with it
            foreach (Slice s in slices)
            {
                s.Pending.Call!.Failed(ex, s.Pending.Indices, s.From, s.Count);
            }

            return;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        long offset = baseOffset;
        foreach (Slice s in slices)
        {
            s.Pending.Call!.Landed(partition, offset, s.Pending.Indices, s.From, s.Count);
            offset += s.Count;
        }

        // Only once the callers know their positions.
        segments.Store.Bell.Ring(segments.Store.Container.Uri, def.Name, partition); // this process's readers read it now
        segments.Store.Notices?.Appended(def.Name, partition, baseOffset + records.Length - 1); // and the server's watchers
        Interlocked.Increment(ref batchesSent);
    }

    /// <summary>Appends one batch; returns its base offset. Never abandoned half-way, so it takes no cancellation.</summary>
    private async Task<long> AppendAsync(EncodedRecord[] records, byte[] buffer, int length, long seq)
    {
        Attempt? attempt = null; // the last attempt, at the position every later try of this batch must use until resolved
        bool mayHaveLanded = false;
        Guid batchId = records[0].Mark?.Writer ?? producerId; // what the header names: a sequenced batch's writer
        int failures = 0;
        int conflicts = 0;
        Exception? lastError = null;
        while (true)
        {
            if (failures >= options.MaxAppendAttempts)
            {
                string fate = mayHaveLanded
                    ? "an attempt may still land; if it did, its events are in the log once"
                    : "none of its events was written";
                throw new EventLogException(
                    EventLogErrorReason.StorageFailure,
                    $"Append of {records.Length} event(s) to stream '{def.Name}' partition {partition} failed after {failures} attempts ({fate}): {lastError?.Message}",
                    lastError)
                { MayHaveBeenWritten = mayHaveLanded };
            }

            try
            {
                if (mayHaveLanded && attempt is { } a)
                {
                    // An earlier try of this very batch may have landed (lost response, SDK retry, timeout): look at its position.
                    (BatchHeader Header, string? Error)? found = await segments.ReadHeaderAtAsync(a.Segment, a.Position, CancellationToken.None);
                    if (found is { Error: null, Header: var h } && h.ProducerId == batchId && h.ProducerSequence == seq && h.ProducerEpoch == producerEpoch)
                    {
                        tail = new PartitionTail(a.Segment with { Length = a.Position + length }, h.NextOffset, a.BlockIndex + 1);
                        return h.BaseOffset;
                    }

                    if (found is null)
                    {
                        // Nothing there yet, and an earlier try may still be on its way: try again at exactly that position,
                        // so at most one of the tries can ever land.
                        tail = new PartitionTail(a.Segment with { Length = a.Position }, a.BaseOffset, a.BlockIndex);
                    }
                    else
                    {
                        mayHaveLanded = false; // another batch holds the position: no try of ours landed, and none can
                        tail = null;
                    }
                }

                tail ??= await ReadTailAsync();
                if (tail.Segment is not { } segment || SegmentInfo.IsFull(def, segment.Length, tail.BlockCount))
                {
                    await RollAsync();
                    continue;
                }

                long position = segment.Length;
                long baseOffset = tail.NextOffset;
                BatchFormat.Write(buffer, records, baseOffset, producerId, seq, tail.BlockCount, producerEpoch);
                attempt = new Attempt(segment, position, tail.BlockCount, baseOffset);
                AppendBlobClient blob = segments.Store.Container.GetAppendBlobClient(segment.BlobName);
                Response<BlobAppendInfo> response = await blob.AppendBlockAsync(
                    new MemoryStream(buffer, 0, length, writable: false),
                    new AppendBlobAppendBlockOptions { Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = position } });
                tail = new PartitionTail(segment with { Length = position + length }, baseOffset + records.Length, response.Value.BlobCommittedBlockCount);
                return baseOffset;
            }
            catch (RequestFailedException ex) when (ex.Status == 412 || ex.ErrorCode == "BlockCountExceedsLimit")
            {
                // Someone else appended, or an earlier try of ours landed (the SDK retries on its own). Azurite checks the
                // block limit before the position condition, so a full blob is the same news: our tail is stale.
                lastError = ex;
                mayHaveLanded = ex.Status == 412 || mayHaveLanded;
                tail = null;
                if (++conflicts % 1000 == 0)
                {
                    failures++; // a pathological storm still ends
                }

                await Task.Delay(Backoff.FullJitter(Backoff.Exponential(conflicts + 1, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(20)), segments.Store.Random), segments.Store.TimeProvider);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                lastError = ex;
                failures++;
                tail = null;
                if (await streams.TryGetStreamAsync(def.Name) is null)
                {
                    throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{def.Name}' was deleted while appending.", ex);
                }

                if (mayHaveLanded && attempt is { } a)
                {
                    // Retention or compaction removed the segment before we could look: whether the earlier try landed
                    // cannot be known any more, and appending again could write the events twice.
                    throw new EventLogException(
                        EventLogErrorReason.StorageFailure,
                        $"Append of {records.Length} event(s) to stream '{def.Name}' partition {partition} may have landed at offset {a.BaseOffset} in segment {a.Segment.BlobName}, which was deleted (retention or compaction) before the producer could check; it was not appended again, to avoid a duplicate. Check the stream and send again if the events are missing.",
                        ex)
                    { MayHaveBeenWritten = true };
                }
            }
            catch (Exception ex) when (ex is not EventLogException)
            {
                lastError = ex;
                failures++;
                mayHaveLanded |= attempt is not null; // timeouts, resets, 5xx: the request may have reached storage
                tail = null;
                await Task.Delay(Backoff.WithJitter(Backoff.Exponential(failures + 1, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2)), TimeSpan.FromMilliseconds(50), segments.Store.Random), segments.Store.TimeProvider);
            }
        }
    }

    private async Task<PartitionTail> ReadTailAsync() =>
        await segments.ReadTailAsync(def.Name, partition, await segments.ListSegmentsAsync(def.Name, partition, CancellationToken.None), CancellationToken.None);

    /// <summary>
    /// Starts the next segment at the partition's real end. The tail is re-read from storage first (retention and
    /// compaction delete segments under long-lived producers), the create is conditional (If-None-Match:*), and a
    /// segment that turns out not to be the last one (someone rolled past it meanwhile) is removed again unused.
    /// </summary>
    private async Task RollAsync()
    {
        PartitionTail fresh = await ReadTailAsync();
        if (fresh.Segment is { } last && !SegmentInfo.IsFull(def, last.Length, fresh.BlockCount))
        {
            tail = fresh; // someone else rolled already
            return;
        }

        await segments.Store.EnsureContainerAsync(CancellationToken.None);
        if (await streams.TryGetStreamAsync(def.Name) is null)
        {
            throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{def.Name}' was deleted while appending.");
        }

        long next = fresh.NextOffset;
        string name = StoragePaths.Segment(def.Name, partition, next);
        AppendBlobClient blob = segments.Store.Container.GetAppendBlobClient(name);
        ETag created;
        try
        {
            created = (await blob.CreateAsync(new AppendBlobCreateOptions
            {
                Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All },
            })).Value.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            tail = null; // another producer rolled first; read what it made
            return;
        }

        PartitionTail check = await ReadTailAsync();
        if (check.Segment?.BlobName != name)
        {
            try
            {
                await blob.DeleteAsync(conditions: new BlobRequestConditions { IfMatch = created });
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Gone already, or written to: leave it to the reader's continuity check to name.
            }

            tail = null;
            return;
        }

        tail = new PartitionTail(new SegmentInfo(partition, next, 0, segments.Store.TimeProvider.GetUtcNow(), name), next, 0);
    }

    /// <summary>A call's events for this partition (or a flush marker); <see cref="Taken"/> of them are in batches already.</summary>
    private sealed class Pending(SendCall? call, int[]? indices, long ticket, TaskCompletionSource? marker)
    {
        public SendCall? Call => call;

        public int[]? Indices => indices;

        public long Ticket => ticket;

        public TaskCompletionSource? Marker => marker;

        public int Count => indices?.Length ?? call?.Records.Length ?? 0;

        public int Taken { get; set; }

        public EncodedRecord Record(int k) => call!.Records[indices?[k] ?? k];
    }

    /// <summary>Events <see cref="From"/>..+<see cref="Count"/> of a pending call, in one batch.</summary>
    private readonly record struct Slice(Pending Pending, int From, int Count);

    /// <summary>An append whose outcome may be unknown: where it was sent, and what it was numbered.</summary>
    private sealed record Attempt(SegmentInfo Segment, long Position, int BlockIndex, long BaseOffset);
}
