using Azure;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Format;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Storage;

/// <summary>
/// The segments of a stream's partitions: listings (with compacted segments resolved), a partition's tail from its
/// last batch footer, and single batch headers and footers by ranged reads. The reader, appender, compactor, lag and
/// retention code find their way through a partition here.
/// </summary>
internal sealed class SegmentStore
{
    public SegmentStore(LogStore store) => Store = store;

    public LogStore Store { get; }

    public async Task<List<SegmentInfo>> ListSegmentsAsync(string stream, int partition, CancellationToken cancellationToken) =>
        SegmentInfo.Resolve(await ListRawSegmentsAsync(stream, partition, cancellationToken));

    /// <summary>Every segment blob of a partition, including those a compacted segment supersedes.</summary>
    public async Task<List<SegmentInfo>> ListRawSegmentsAsync(string stream, int partition, CancellationToken cancellationToken)
    {
        var list = new List<SegmentInfo>();
        try
        {
            await foreach (BlobItem item in Store.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, StoragePaths.PartitionPrefix(stream, partition), cancellationToken))
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

    public async Task<Dictionary<int, List<SegmentInfo>>> ListAllSegmentsAsync(string stream, CancellationToken cancellationToken) =>
        (await ListStreamAsync(stream, cancellationToken)).Segments;

    /// <summary>
    /// One listing of a stream: its segments by partition, and the ETag of its definition (null when there is none or
    /// it is a deleting tombstone), so a poller learns of a delete or a re-create without another request.
    /// </summary>
    public async Task<(Dictionary<int, List<SegmentInfo>> Segments, ETag? Definition)> ListStreamAsync(string stream, CancellationToken cancellationToken)
    {
        var all = new Dictionary<int, List<SegmentInfo>>();
        ETag? definition = null;
        string document = StoragePaths.StreamDocument(stream);
        try
        {
            await foreach (BlobItem item in Store.Container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, StoragePaths.StreamPrefix(stream), cancellationToken))
            {
                if (item.Name == document)
                {
                    definition = StreamDocument.IsDeleting(item.Metadata) ? null : item.Properties.ETag;
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
    public async Task<PartitionTail> ReadTailAsync(string stream, int partition, List<SegmentInfo> segments, CancellationToken cancellationToken)
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

        BinaryData bytes = (await Store.Container.GetBlobClient(last.BlobName).DownloadContentAsync(
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
    public async Task<(BatchHeader Header, string? Error)?> ReadHeaderAtAsync(SegmentInfo segment, long position, CancellationToken cancellationToken)
    {
        try
        {
            BinaryData data = (await Store.Container.GetBlobClient(segment.BlobName).DownloadContentAsync(
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
    public async Task<BatchFooter?> ReadFooterBeforeAsync(SegmentInfo segment, long position, CancellationToken cancellationToken)
    {
        BinaryData data = (await Store.Container.GetBlobClient(segment.BlobName).DownloadContentAsync(
            new BlobDownloadOptions { Range = new HttpRange(position - BatchFormat.FooterSize, BatchFormat.FooterSize) }, cancellationToken)).Value.Content;
        BatchFooter footer = BatchFooter.Parse(data.ToMemory().Span, out string? error);
        return error is null ? footer : null;
    }

    public static EventLogException Corrupt(string stream, int partition, long offset, SegmentInfo segment, long bytePosition, string why) =>
        new(
            EventLogErrorReason.CorruptData,
            $"Corrupt data in stream '{stream}' partition {partition} at offset {offset} (segment {segment.BlobName}, byte {bytePosition}): {why}. The read stopped; nothing was skipped.");

    /// <summary>Earliest retained offset, end offset, segments and bytes of every partition: one listing plus one small ranged read per non-empty partition.</summary>
    public async Task<IReadOnlyList<PartitionInfo>> DescribePartitionsAsync(StreamDefinition def, CancellationToken cancellationToken)
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

    /// <summary>Describes one partition from its segments (one small ranged read).</summary>
    public async Task<PartitionInfo> DescribePartitionAsync(string stream, int partition, List<SegmentInfo> segments, CancellationToken cancellationToken)
    {
        PartitionTail tail = await ReadTailAsync(stream, partition, segments, cancellationToken);
        long earliest = segments.Count > 0 ? segments[0].BaseOffset : 0;
        return new PartitionInfo(partition, earliest, tail.NextOffset, segments.Count, segments.Sum(s => s.Length), segments.Count > 0 ? segments[^1].LastModified : null);
    }
}
