using System.Buffers;
using System.Threading.Channels;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Format;
using FaasEvents.Log.Storage;

namespace FaasEvents.Log;

/// <summary>
/// Batches and appends the events of one partition, one append in flight at a time (so order is kept).
/// Implements the append protocol of docs/storage-format.md: conditional on the append position,
/// renumbered after a conflict, idempotent after an ambiguous failure, rolling full segments race-free.
/// </summary>
internal sealed class PartitionAppender
{
    private readonly EventLogClient log;
    private readonly StreamDefinition def;
    private readonly int partition;
    private readonly Guid producerId;
    private readonly EventProducerOptions options;
    private readonly Channel<Pending> channel;
    private PartitionTail? tail;
    private long sequence;
    private long batchesSent;

    public PartitionAppender(EventLogClient log, StreamDefinition def, int partition, Guid producerId, EventProducerOptions options)
    {
        this.log = log;
        this.def = def;
        this.partition = partition;
        this.producerId = producerId;
        this.options = options;
        channel = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.MaxPendingEventsPerPartition)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        Completion = Task.Run(RunAsync);
    }

    public Task Completion { get; }

    public long BatchesSent => Interlocked.Read(ref batchesSent);

    public async ValueTask<Task<EventPosition>> EnqueueAsync(EncodedRecord record, CancellationToken cancellationToken)
    {
        var pending = new Pending(record, new TaskCompletionSource<EventPosition>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await channel.Writer.WriteAsync(pending, cancellationToken);
        }
        catch (ChannelClosedException ex)
        {
            throw new ObjectDisposedException($"The producer for stream '{def.Name}' was disposed.", ex);
        }

        return pending.Completion.Task;
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var marker = new Pending(default, new TaskCompletionSource<EventPosition>(TaskCreationOptions.RunContinuationsAsynchronously), IsFlushMarker: true);
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

                    int size = BatchFormat.RecordPrefixSize + next.Record.Body.Length;
                    if (batch.Count > 0 && bytes + size > options.MaxBatchBytes)
                    {
                        break;
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

                DateTimeOffset now = log.TimeProvider.GetUtcNow();
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

    private async Task<bool> WaitForMoreAsync(ChannelReader<Pending> reader, TimeSpan remaining)
    {
        using var cts = new CancellationTokenSource();
        Task<bool> more = reader.WaitToReadAsync(cts.Token).AsTask();
        Task delay = Task.Delay(remaining, log.TimeProvider, cts.Token);
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

            Interlocked.Increment(ref batchesSent);
        }
        catch (Exception ex)
        {
            tail = null;
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
        (SegmentInfo Segment, long Position, int BlockIndex)? maybeLanded = null;
        int failures = 0;
        int conflicts = 0;
        Exception? lastError = null;
        while (true)
        {
            if (failures >= options.MaxAppendAttempts)
            {
                string fate = maybeLanded is null
                    ? "none of its events was written"
                    : "an attempt may still land; if it did, its events are in the log once";
                throw new EventLogException(
                    EventLogErrorReason.StorageFailure,
                    $"Append of {records.Length} event(s) to stream '{def.Name}' partition {partition} failed after {failures} attempts ({fate}): {lastError?.Message}",
                    lastError);
            }

            try
            {
                if (maybeLanded is { } m)
                {
                    // An earlier attempt of this very batch may have landed (lost response, SDK retry, timeout).
                    (BatchHeader Header, string? Error)? found = await log.ReadHeaderAtAsync(m.Segment, m.Position, CancellationToken.None);
                    if (found is { Error: null, Header: var h } && h.ProducerId == producerId && h.ProducerSequence == seq)
                    {
                        tail = new PartitionTail(m.Segment with { Length = m.Position + length }, h.NextOffset, m.BlockIndex + 1);
                        return h.BaseOffset;
                    }

                    if (found is not null)
                    {
                        maybeLanded = null; // another batch holds that position: ours never landed and never can
                    }

                    tail = null;
                }

                tail ??= await ReadTailAsync();
                if (tail.Segment is not { } segment || SegmentInfo.IsFull(def, segment.Length, tail.BlockCount))
                {
                    await RollAsync(tail);
                    continue;
                }

                long position = segment.Length;
                BatchFormat.Write(buffer, records, tail.NextOffset, producerId, seq, tail.BlockCount);
                maybeLanded = (segment, position, tail.BlockCount);
                AppendBlobClient blob = log.Container.GetAppendBlobClient(segment.BlobName);
                Response<BlobAppendInfo> response = await blob.AppendBlockAsync(
                    new MemoryStream(buffer, 0, length, writable: false),
                    new AppendBlobAppendBlockOptions { Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = position } });
                long baseOffset = tail.NextOffset;
                tail = new PartitionTail(segment with { Length = position + length }, baseOffset + records.Length, response.Value.BlobCommittedBlockCount);
                return baseOffset;
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                // Someone else appended (or an earlier try of ours landed): resolved at the top of the loop.
                lastError = ex;
                if (++conflicts % 1000 == 0)
                {
                    failures++; // a pathological storm still ends
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, Math.Min(1 << Math.Min(conflicts, 5), 20))), log.TimeProvider);
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == "BlockCountExceedsLimit")
            {
                lastError = ex;
                maybeLanded = null;
                tail = tail is { Segment: { } s } t ? t with { BlockCount = int.MaxValue, Segment = s } : null;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                lastError = ex;
                failures++;
                tail = null;
                maybeLanded = null;
                if (await log.TryGetStreamAsync(def.Name) is null)
                {
                    throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{def.Name}' was deleted while appending.", ex);
                }
            }
            catch (Exception ex) when (ex is not EventLogException)
            {
                lastError = ex;
                failures++;
                tail = null;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * (1 << Math.Min(failures, 6))) + Random.Shared.Next(0, 50)), log.TimeProvider);
            }
        }
    }

    private async Task<PartitionTail> ReadTailAsync() =>
        await log.ReadTailAsync(def.Name, partition, await log.ListSegmentsAsync(def.Name, partition, CancellationToken.None), CancellationToken.None);

    /// <summary>Starts the segment for the tail's next offset; If-None-Match:* makes racing rollers safe.</summary>
    private async Task RollAsync(PartitionTail current)
    {
        await log.EnsureContainerAsync(CancellationToken.None);
        long next = current.NextOffset;
        string name = StoragePaths.Segment(def.Name, partition, next);
        try
        {
            await log.Container.GetAppendBlobClient(name).CreateAsync(new AppendBlobCreateOptions
            {
                Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All },
            });
            tail = new PartitionTail(new SegmentInfo(partition, next, 0, log.TimeProvider.GetUtcNow(), name), next, 0);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            tail = null; // another producer rolled first; read what it made
        }
    }

    private sealed record Pending(EncodedRecord Record, TaskCompletionSource<EventPosition> Completion, bool IsFlushMarker = false);
}
