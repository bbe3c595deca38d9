using System.Buffers;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Format;
using FaasEvents.Log.Storage;

namespace FaasEvents.Log;

/// <summary>
/// Reads one partition in offset order, batch by batch, holding at most one batch in memory.
/// Every batch's checksum is verified; a bad one stops the read with stream, partition and offset.
/// </summary>
internal sealed class PartitionReader
{
    private readonly EventLogClient log;
    private readonly StreamDefinition def;
    private readonly int partition;
    private readonly ReadOptions options;
    private bool segmentGone;

    public PartitionReader(EventLogClient log, StreamDefinition def, int partition, ReadOptions options)
    {
        this.log = log;
        this.def = def;
        this.partition = partition;
        this.options = options;
    }

    /// <summary>The next offset the reader will return (advances as batches are read).</summary>
    public long NextOffset { get; private set; }

    public async IAsyncEnumerable<EventBlock> ReadBlocksAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<SegmentInfo> segments = await log.ListSegmentsAsync(def.Name, partition, cancellationToken);
        (long target, DateTimeOffset? fromTime) = await ResolveStartAsync(segments, cancellationToken);
        NextOffset = target;
        int index = FindSegment(segments, target, fromTime);
        if (index < 0)
        {
            // Empty partition: wait for the first segment (when following) or stop.
            while (true)
            {
                if (!options.Follow)
                {
                    yield break;
                }

                await Task.Delay(options.PollInterval, log.TimeProvider, cancellationToken);
                segments = await log.ListSegmentsAsync(def.Name, partition, cancellationToken);
                if (segments.Count > 0)
                {
                    index = 0;
                    break;
                }
            }
        }

        SegmentInfo segment = segments[index];
        long position = await UsableHintAsync(segment, target, cancellationToken) ?? 0;
        int blocksSeen = 0;
        while (true)
        {
            if (options.EndOffset is { } end && NextOffset >= end)
            {
                yield break;
            }

            bool any = false;
            await foreach (Chunk chunk in ReadSegmentAsync(segment, position, fromTime, cancellationToken))
            {
                long chunkStart = position;
                position = chunk.EndPosition;
                blocksSeen = chunk.BlockIndex + 1;
                if (chunk.Events.Count > 0)
                {
                    any = true;
                    fromTime = null; // found the first event at or after the time: from here on, everything
                    IReadOnlyList<StoredEvent> events = chunk.Events;
                    if (options.EndOffset is { } stop && events[^1].Offset >= stop)
                    {
                        events = events.Where(e => e.Offset < stop).ToList();
                    }

                    NextOffset = chunk.NextOffset;
                    if (events.Count > 0)
                    {
                        yield return new EventBlock(events, new LogPosition(segment.BaseOffset, chunkStart), new LogPosition(segment.BaseOffset, chunk.EndPosition));
                    }
                }
                else
                {
                    NextOffset = Math.Max(NextOffset, chunk.NextOffset);
                }
            }

            if (any)
            {
                continue;
            }

            // At the end of this segment. A next one exists only once this one is full (and final); compacted ones are
            // closed. And if compaction replaced the segment (or retention deleted it) while we read, continue in
            // whatever now holds NextOffset: offsets never change, so nothing is repeated; a compacted segment has gaps.
            bool gone = segmentGone;
            segmentGone = false;
            if (gone || segment.IsCompacted || SegmentInfo.IsFull(def, position, blocksSeen))
            {
                SegmentInfo? next = await FindSegmentHoldingAsync(segment, cancellationToken);
                if (next is { } n)
                {
                    segment = n;
                    position = 0;
                    blocksSeen = 0;
                    continue;
                }
            }

            if (!options.Follow)
            {
                yield break;
            }

            await Task.Delay(options.PollInterval, log.TimeProvider, cancellationToken);
        }
    }

    /// <summary>The hinted byte position, if it is a batch boundary in this segment whose batch holds (or ends at) the target.</summary>
    private async Task<long?> UsableHintAsync(SegmentInfo segment, long target, CancellationToken cancellationToken)
    {
        if (options.PositionHint is not { } hint || options.From.Kind != StartKind.Offset || hint.SegmentBaseOffset != segment.BaseOffset || hint.BytePosition <= 0)
        {
            return null;
        }

        (BatchHeader Header, string? Error)? found = await log.ReadHeaderAtAsync(segment, hint.BytePosition, cancellationToken);
        return found switch
        {
            null => hint.BytePosition == segment.Length ? hint.BytePosition : null, // nothing there yet: usable only at this segment's end
            { Error: null, Header: var h } when h.BaseOffset <= target && target < h.NextOffset => hint.BytePosition,
            _ => null,
        };
    }

    /// <summary>
    /// The segment (other than <paramref name="current"/>) that holds <see cref="NextOffset"/>: the one whose range
    /// contains it, else the first one after it (after retention removed the offsets in between).
    /// </summary>
    private async Task<SegmentInfo?> FindSegmentHoldingAsync(SegmentInfo current, CancellationToken cancellationToken)
    {
        List<SegmentInfo> segments = await log.ListSegmentsAsync(def.Name, partition, cancellationToken);
        for (int i = 0; i < segments.Count; i++)
        {
            SegmentInfo s = segments[i];
            if (s.BlobName != current.BlobName && s.BaseOffset <= NextOffset && NextOffset < SegmentInfo.EndOf(segments, i))
            {
                return s;
            }
        }

        SegmentInfo? later = segments.FirstOrDefault(s => s.BaseOffset > NextOffset);
        if (later is { } l && l.BlobName != current.BlobName && l.BaseOffset > current.BaseOffset)
        {
            if (segments.Exists(s => s.BlobName == current.BlobName))
            {
                return l; // the current segment ended exactly where the next begins (or the gap is a compacted range's tail)
            }

            if (!options.StartAtEarliestIfTruncated)
            {
                throw BelowRetention(NextOffset, l.BaseOffset);
            }

            NextOffset = l.BaseOffset;
            return l;
        }

        return null;
    }

    private async Task<(long Offset, DateTimeOffset? FromTime)> ResolveStartAsync(List<SegmentInfo> segments, CancellationToken cancellationToken)
    {
        long earliest = segments.Count > 0 ? segments[0].BaseOffset : 0;
        switch (options.From.Kind)
        {
            case StartKind.Earliest:
                return (earliest, null);
            case StartKind.Latest:
                return ((await log.ReadTailAsync(def.Name, partition, segments, cancellationToken)).NextOffset, null);
            case StartKind.Time:
                return (earliest, options.From.Time);
            default:
                long offset = options.From.Offset;
                if (offset < earliest)
                {
                    return options.StartAtEarliestIfTruncated ? (earliest, null) : throw BelowRetention(offset, earliest);
                }

                long endOffset = (await log.ReadTailAsync(def.Name, partition, segments, cancellationToken)).NextOffset;
                if (offset > endOffset)
                {
                    throw new EventLogException(EventLogErrorReason.OffsetOutOfRange, $"Stream '{def.Name}' partition {partition} ends at offset {endOffset}; offset {offset} is beyond the end.");
                }

                return (offset, null);
        }
    }

    private static int FindSegment(List<SegmentInfo> segments, long offset, DateTimeOffset? fromTime)
    {
        if (segments.Count == 0)
        {
            return -1;
        }

        if (fromTime is { } t)
        {
            // Segments are written in time order: skip those last written before the time.
            // Last-Modified has one-second resolution: allow for it.
            int i = segments.FindIndex(s => s.LastModified >= t - TimeSpan.FromSeconds(1));
            return i < 0 ? segments.Count - 1 : i;
        }

        int index = 0;
        for (int i = 0; i < segments.Count; i++)
        {
            if (segments[i].BaseOffset <= offset)
            {
                index = i;
            }
        }

        return index;
    }

    private EventLogException BelowRetention(long offset, long earliest) =>
        new(
            EventLogErrorReason.OffsetOutOfRange,
            $"Stream '{def.Name}' partition {partition}: offset {offset} is no longer retained; the earliest retained offset is {earliest}. Read from 'earliest' (or set StartAtEarliestIfTruncated) to continue.");

    /// <summary>Streams the batches of a segment from a byte position to its current end.</summary>
    private async IAsyncEnumerable<Chunk> ReadSegmentAsync(SegmentInfo segment, long position, DateTimeOffset? fromTime, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Stream? content;
        try
        {
            BlobDownloadStreamingResult result = (await log.Container.GetBlobClient(segment.BlobName).DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(position) }, cancellationToken)).Value;
            content = result.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == 416)
        {
            yield break; // nothing new past position
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            segmentGone = true; // compaction or retention removed it: the caller looks for what holds NextOffset now
            yield break;
        }

        await using Stream stream = content;
        byte[] header = new byte[BatchFormat.HeaderSize];
        long pos = position;
        while (true)
        {
            int read = await stream.ReadAtLeastAsync(header, BatchFormat.HeaderSize, throwOnEndOfStream: false, cancellationToken);
            if (read == 0)
            {
                yield break;
            }

            if (read < BatchFormat.HeaderSize)
            {
                throw EventLogClient.Corrupt(def.Name, partition, NextOffset, segment, pos, $"truncated batch header ({read} of {BatchFormat.HeaderSize} bytes)");
            }

            BatchHeader h = BatchHeader.Parse(header, out string? error);
            if (error is not null)
            {
                throw EventLogClient.Corrupt(def.Name, partition, NextOffset, segment, pos, error);
            }

            byte[] batch = ArrayPool<byte>.Shared.Rent(h.BatchLength);
            try
            {
                header.CopyTo(batch, 0);
                int rest = await stream.ReadAtLeastAsync(batch.AsMemory(BatchFormat.HeaderSize, h.BatchLength - BatchFormat.HeaderSize), h.BatchLength - BatchFormat.HeaderSize, throwOnEndOfStream: false, cancellationToken);
                if (rest < h.BatchLength - BatchFormat.HeaderSize)
                {
                    throw EventLogClient.Corrupt(def.Name, partition, h.BaseOffset, segment, pos, $"batch of {h.BatchLength} bytes is truncated");
                }

                ReadOnlyMemory<byte> span = batch.AsMemory(0, h.BatchLength);
                if (!BatchFormat.VerifyChecksum(span.Span, out uint stored, out uint computed))
                {
                    throw EventLogClient.Corrupt(def.Name, partition, h.BaseOffset, segment, pos, $"checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
                }

                BatchFooter footer = BatchFooter.Parse(span.Span[^BatchFormat.FooterSize..], out string? footerError);
                if (footerError is not null || footer.BaseOffset != h.BaseOffset || footer.BatchLength != h.BatchLength)
                {
                    throw EventLogClient.Corrupt(def.Name, partition, h.BaseOffset, segment, pos, footerError ?? "footer does not match header");
                }

                var events = new List<StoredEvent>(h.RecordCount);
                bool wanted = h.NextOffset > NextOffset && (fromTime is null || h.MaxTimestamp >= fromTime.Value.ToUnixTimeMilliseconds());
                if (wanted)
                {
                    try
                    {
                        BatchFormat.ReadRecords(span.Span, h, events, partition);
                    }
                    catch (FormatException ex)
                    {
                        throw EventLogClient.Corrupt(def.Name, partition, h.BaseOffset, segment, pos, ex.Message);
                    }

                    events.RemoveAll(e => e.Offset < NextOffset || (fromTime is { } t && e.Timestamp < t));
                }

                pos += h.BatchLength;
                yield return new Chunk(events, h.NextOffset, pos, footer.BlockIndex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(batch);
            }
        }
    }

    private sealed record Chunk(List<StoredEvent> Events, long NextOffset, long EndPosition, int BlockIndex);
}
