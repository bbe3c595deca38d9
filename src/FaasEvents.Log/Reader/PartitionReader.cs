using System.Buffers;
using System.Runtime.CompilerServices;
using Azure;
using FaasEvents.Log.Events;
using FaasEvents.Log.Format;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Reader;

/// <summary>
/// Reads one partition in offset order, batch by batch, holding at most one batch in memory.
/// Every batch's checksum is verified; a bad one stops the read with stream, partition and offset.
/// </summary>
internal sealed class PartitionReader
{
    private readonly SegmentStore segmentStore;
    private readonly StreamDefinition def;
    private readonly int partition;
    private readonly ReadOptions options;
    private readonly DuplicateFilter? filter;
    private bool segmentGone;

    public PartitionReader(SegmentStore segmentStore, StreamDefinition def, int partition, ReadOptions options)
    {
        this.segmentStore = segmentStore;
        this.def = def;
        this.partition = partition;
        this.options = options;
        filter = options.Deduplicate ? options.Filter ?? new DuplicateFilter() : null;
    }

    /// <summary>The next offset the reader will return (advances as batches are read).</summary>
    public long NextOffset { get; private set; }

    public async IAsyncEnumerable<EventBlock> ReadBlocksAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pace = new FollowPace(options, segmentStore.Store.TimeProvider);
        Uri container = segmentStore.Store.Container.Uri;
        Task bell = segmentStore.Store.Bell.Next(container, def.Name, partition);
        List<SegmentInfo> segments = await segmentStore.ListSegmentsAsync(def.Name, partition, cancellationToken);
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

                await pace.WaitAsync(bell, cancellationToken);
                bell = segmentStore.Store.Bell.Next(container, def.Name, partition);
                segments = await segmentStore.ListSegmentsAsync(def.Name, partition, cancellationToken);
                if (segments.Count > 0)
                {
                    index = 0;
                    break;
                }
            }
        }

        SegmentInfo segment = segments[index];
        (long position, int blocksSeen) = await UsableHintAsync(segment, target, cancellationToken) ?? (0, 0);
        while (true)
        {
            if (options.EndOffset is { } end && NextOffset >= end)
            {
                yield break;
            }

            bool any = false;
            bell = segmentStore.Store.Bell.Next(container, def.Name, partition); // armed before looking: an append from now on rings it
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
                pace.Moved();
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

            await pace.WaitAsync(bell, cancellationToken);
        }
    }

    /// <summary>
    /// The hinted byte position, if it is a batch boundary in this segment whose batch holds (or ends at) the target,
    /// with the number of batches before it when that is needed to tell whether the segment is full (at its end).
    /// </summary>
    private async Task<(long Position, int BlocksBefore)?> UsableHintAsync(SegmentInfo segment, long target, CancellationToken cancellationToken)
    {
        if (options.PositionHint is not { } hint || options.From.Kind != StartKind.Offset || hint.SegmentBaseOffset != segment.BaseOffset || hint.BytePosition <= 0)
        {
            return null;
        }

        (BatchHeader Header, string? Error)? found = await segmentStore.ReadHeaderAtAsync(segment, hint.BytePosition, cancellationToken);
        if (found is { Error: null, Header: var h } && h.BaseOffset <= target && target < h.NextOffset)
        {
            return (hint.BytePosition, 0); // batches read from here report their own block index
        }

        if (found is not null || hint.BytePosition != segment.Length || hint.BytePosition < BatchFormat.FooterSize)
        {
            return null;
        }

        // At the segment's end: the last footer says where the segment ends and how many batches it holds, so a segment
        // that is full by batch count is recognised and the read moves on to the next one.
        BatchFooter? footer = await segmentStore.ReadFooterBeforeAsync(segment, hint.BytePosition, cancellationToken);
        return footer is { } f && f.NextOffset == target ? (hint.BytePosition, f.BlockIndex + 1) : null;
    }

    /// <summary>
    /// The segment (other than <paramref name="current"/>) that holds <see cref="NextOffset"/>. While the current
    /// segment is still there, that is the next one, which must start exactly where it ended. If compaction replaced the
    /// current one or retention deleted it, it is whatever range now contains the offset, else the first one after it.
    /// </summary>
    private async Task<SegmentInfo?> FindSegmentHoldingAsync(SegmentInfo current, CancellationToken cancellationToken)
    {
        List<SegmentInfo> segments = await segmentStore.ListSegmentsAsync(def.Name, partition, cancellationToken);
        int at = segments.FindIndex(s => s.BlobName == current.BlobName);
        if (at >= 0)
        {
            if (at + 1 >= segments.Count)
            {
                return null;
            }

            SegmentInfo next = segments[at + 1];
            if (next.BaseOffset != NextOffset)
            {
                throw SegmentStore.Corrupt(def.Name, partition, NextOffset, next, 0, Discontinuity(NextOffset, next.BaseOffset, $"segment {current.BlobName}"));
            }

            return next;
        }

        for (int i = 0; i < segments.Count; i++)
        {
            SegmentInfo s = segments[i];
            if (s.BaseOffset <= NextOffset && NextOffset < SegmentInfo.EndOf(segments, i))
            {
                return s;
            }
        }

        SegmentInfo? later = segments.FirstOrDefault(s => s.BaseOffset > NextOffset);
        if (later is { } l && l.BaseOffset > current.BaseOffset)
        {
            if (!options.StartAtEarliestIfTruncated)
            {
                throw BelowRetention(NextOffset, l.BaseOffset);
            }

            NextOffset = l.BaseOffset;
            return l;
        }

        return null;
    }

    private static string Discontinuity(long expected, long found, string previous) =>
        found > expected
            ? $"offsets {expected}..{found - 1} are missing: a batch starts at offset {found} but {previous} ended at {expected}"
            : $"offsets {found}..{expected - 1} are repeated: a batch starts at offset {found} but {previous} already ended at {expected}";

    private async Task<(long Offset, DateTimeOffset? FromTime)> ResolveStartAsync(List<SegmentInfo> segments, CancellationToken cancellationToken)
    {
        long earliest = segments.Count > 0 ? segments[0].BaseOffset : 0;
        switch (options.From.Kind)
        {
            case StartKind.Earliest:
                return (earliest, null);
            case StartKind.Latest:
                return ((await segmentStore.ReadTailAsync(def.Name, partition, segments, cancellationToken)).NextOffset, null);
            case StartKind.Time:
                return (earliest, options.From.Time);
            default:
                long offset = options.From.Offset;
                if (offset < earliest)
                {
                    return options.StartAtEarliestIfTruncated ? (earliest, null) : throw BelowRetention(offset, earliest);
                }

                long endOffset = (await segmentStore.ReadTailAsync(def.Name, partition, segments, cancellationToken)).NextOffset;
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
        SegmentRangeStream? content;
        try
        {
            content = await SegmentRangeStream.OpenAsync(segmentStore.Store.Container.GetBlobClient(segment.BlobName), position, segmentStore.Store.ReadRangeBytes, cancellationToken);
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

        await using SegmentRangeStream stream = content;
        byte[] header = new byte[BatchFormat.HeaderSize];
        long pos = position;
        long? expectedBase = position == 0 ? segment.BaseOffset : null; // from a hint, the first batch may start before the target
        while (true)
        {
            int read = await stream.ReadAtLeastAsync(header, BatchFormat.HeaderSize, throwOnEndOfStream: false, cancellationToken);
            if (stream.Vanished)
            {
                segmentGone = true; // deleted between two ranges: the caller looks for what holds NextOffset now
                yield break;
            }

            if (read == 0)
            {
                yield break;
            }

            if (read < BatchFormat.HeaderSize)
            {
                throw SegmentStore.Corrupt(def.Name, partition, NextOffset, segment, pos, $"truncated batch header ({read} of {BatchFormat.HeaderSize} bytes)");
            }

            BatchHeader h = BatchHeader.Parse(header, out string? error);
            if (error is not null)
            {
                throw SegmentStore.Corrupt(def.Name, partition, NextOffset, segment, pos, error);
            }

            if (expectedBase is { } expected && h.BaseOffset != expected)
            {
                throw SegmentStore.Corrupt(def.Name, partition, expected, segment, pos, Discontinuity(expected, h.BaseOffset, "the previous batch"));
            }

            expectedBase = h.NextOffset;

            byte[] batch = ArrayPool<byte>.Shared.Rent(h.BatchLength);
            try
            {
                header.CopyTo(batch, 0);
                int rest = await stream.ReadAtLeastAsync(batch.AsMemory(BatchFormat.HeaderSize, h.BatchLength - BatchFormat.HeaderSize), h.BatchLength - BatchFormat.HeaderSize, throwOnEndOfStream: false, cancellationToken);
                if (rest < h.BatchLength - BatchFormat.HeaderSize && stream.Vanished)
                {
                    segmentGone = true;
                    yield break;
                }

                if (rest < h.BatchLength - BatchFormat.HeaderSize)
                {
                    throw SegmentStore.Corrupt(def.Name, partition, h.BaseOffset, segment, pos, $"batch of {h.BatchLength} bytes is truncated");
                }

                ReadOnlyMemory<byte> span = batch.AsMemory(0, h.BatchLength);
                if (!BatchFormat.VerifyChecksum(span.Span, out uint stored, out uint computed))
                {
                    throw SegmentStore.Corrupt(def.Name, partition, h.BaseOffset, segment, pos, $"checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
                }

                BatchFooter footer = BatchFooter.Parse(span.Span[^BatchFormat.FooterSize..], out string? footerError);
                if (footerError is not null || footer.BaseOffset != h.BaseOffset || footer.BatchLength != h.BatchLength)
                {
                    throw SegmentStore.Corrupt(def.Name, partition, h.BaseOffset, segment, pos, footerError ?? "footer does not match header");
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
                        throw SegmentStore.Corrupt(def.Name, partition, h.BaseOffset, segment, pos, ex.Message);
                    }

                    events.RemoveAll(e => e.Offset < NextOffset || (fromTime is { } t && e.Timestamp < t));
                    if (filter is not null && h.IsSequenced)
                    {
                        Deduplicate(events, filter);
                    }
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

    /// <summary>Keeps the events the filter admits, in order (the others are duplicates: their offsets are passed, never delivered).</summary>
    private static void Deduplicate(List<StoredEvent> events, DuplicateFilter filter)
    {
        int kept = 0;
        for (int i = 0; i < events.Count; i++)
        {
            if (filter.Admit(events[i]))
            {
                events[kept++] = events[i];
            }
        }

        events.RemoveRange(kept, events.Count - kept);
    }

    private sealed record Chunk(List<StoredEvent> Events, long NextOffset, long EndPosition, int BlockIndex);
}
