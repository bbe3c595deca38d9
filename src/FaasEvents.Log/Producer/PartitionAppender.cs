using System.Buffers;
using System.Threading.Channels;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Events;
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
    private readonly Channel<Pending> channel;
    private readonly uint producerEpoch;
    private readonly Func<long> currentTicket;
    private PartitionTail? tail;
    private long failedBefore = long.MinValue;
    private Exception? lastFailure;
    private long sequence;
    private long batchesSent;

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
        channel = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.MaxPendingEventsPerPartition)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
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

    /// <summary>Queues one event (waiting for room); <paramref name="completion"/> completes when it is appended or failed.</summary>
    public async ValueTask EnqueueAsync(EncodedRecord record, long ticket, TaskCompletionSource<EventPosition> completion)
    {
        try
        {
            await channel.Writer.WriteAsync(new Pending(record, completion, ticket));
        }
        catch (ChannelClosedException ex)
        {
            completion.TrySetException(new ObjectDisposedException($"The producer for stream '{def.Name}' was disposed.", ex));
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var marker = new Pending(default, new TaskCompletionSource<EventPosition>(TaskCreationOptions.RunContinuationsAsynchronously), long.MaxValue, IsFlushMarker: true);
        if (channel.Writer.TryWrite(marker) || await TryWriteAsync(marker, cancellationToken))
        {
            await marker.Completion.Task.WaitAsync(cancellationToken);
        }
    }

    public void Complete() => channel.Writer.TryComplete();

    private async Task<bool> TryWriteAsync(Pending marker, CancellationToken cancellationToken)
    {
        try
        {
            await channel.Writer.WriteAsync(marker, cancellationToken);
            return true;
        }
        catch (ChannelClosedException)
        {
            return false;
        }
    }

    private async Task RunAsync()
    {
        ChannelReader<Pending> reader = channel.Reader;
        var batch = new List<Pending>();
        var markers = new List<Pending>();
        while (await reader.WaitToReadAsync())
        {
            int bytes = BatchFormat.Overhead;
            DateTimeOffset? deadline = null;
            while (true)
            {
                if (reader.TryPeek(out Pending? next))
                {
                    if (next.IsFlushMarker)
                    {
                        reader.TryRead(out _);
                        markers.Add(next);
                        break;
                    }

                    if (next.Ticket < failedBefore)
                    {
                        // Sent before an earlier batch's failure was reported: appending it now would overtake that batch.
                        reader.TryRead(out _);
                        next.Completion.TrySetException(EarlierBatchFailed());
                        continue;
                    }

                    int size = BatchFormat.RecordPrefixSize + (next.Record.Mark is null ? 0 : Varint.MaxLength) + next.Record.Body.Length;
                    if (batch.Count > 0 && (bytes + size > options.MaxBatchBytes || next.Record.Mark?.Writer != batch[0].Record.Mark?.Writer))
                    {
                        break; // full, or another writer's records: a sequenced batch is one writer's
                    }

                    reader.TryRead(out _);
                    batch.Add(next);
                    bytes += size;
                    continue;
                }

                if (batch.Count == 0 || options.Linger == TimeSpan.Zero)
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

            if (batch.Count > 0)
            {
                await SendAsync(batch);
                batch.Clear();
            }

            foreach (Pending m in markers)
            {
                m.Completion.TrySetResult(default);
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

    private async Task SendAsync(List<Pending> batch)
    {
        var records = new EncodedRecord[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            records[i] = batch[i].Record;
        }

        int length = BatchFormat.GetBatchLength(records);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            long baseOffset = await AppendAsync(records, buffer, length, ++sequence);
            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(new EventPosition(partition, baseOffset + i));
            }

            // Only once the callers know their positions: nothing about a wake-up can turn a landed append into a failure.
            segments.Store.Bell.Ring(segments.Store.Container.Uri, def.Name, partition); // this process's readers read it now
            segments.Store.Notices?.Appended(def.Name, partition, baseOffset + records.Length - 1); // and the server's watchers

            Interlocked.Increment(ref batchesSent);
        }
        catch (Exception ex)
        {
            tail = null;
            lastFailure = ex;
            failedBefore = currentTicket(); // every event sent before this failure is reported fails with it
            foreach (Pending p in batch)
            {
                p.Completion.TrySetException(ex);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
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

    private sealed record Pending(EncodedRecord Record, TaskCompletionSource<EventPosition> Completion, long Ticket, bool IsFlushMarker = false);

    /// <summary>An append whose outcome may be unknown: where it was sent, and what it was numbered.</summary>
    private sealed record Attempt(SegmentInfo Segment, long Position, int BlockIndex, long BaseOffset);
}
