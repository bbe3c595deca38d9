using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Events;
using FaasEvents.Log.Format;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Compaction;

/// <summary>
/// Log compaction for entity streams: rewrites a partition's closed segments keeping the latest event per key.
/// Offsets never change (compacted batches have gaps), the active segment is never touched, events younger than
/// <see cref="CompactionOptions.MinCompactionLag"/> stay, and tombstones stay for <see cref="CompactionOptions.DeleteRetention"/>.
/// Three passes: the latest offset per key; what each closed segment keeps (to group segments); then a streaming
/// rewrite, so memory holds the key map and one batch, never a segment.
/// Crash-safe: the new segment is a block blob committed in one request, named with the offset range it covers, and
/// from that moment it hides the segments it replaces (<see cref="SegmentInfo.Resolve"/>); only then are they
/// deleted. A crash at any step leaves either the old segments or the complete new one in the readable view.
/// </summary>
internal sealed class Compactor
{
    private readonly SegmentStore segmentStore;
    private readonly StreamCatalog streams;
    private readonly StreamDefinition def;
    private readonly CompactionOptions options;

    public Compactor(SegmentStore segmentStore, StreamCatalog streams, StreamDefinition def, CompactionOptions options)
    {
        this.segmentStore = segmentStore;
        this.streams = streams;
        this.def = def;
        this.options = options;
    }

    private async IAsyncEnumerable<StoredEvent> ReadAsync(int partition, ReadOptions readOptions, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await CheckStreamAsync(cancellationToken);
        readOptions.Deduplicate = false; // every stored record, each with its writer mark: readers filter copies (and compaction keeps one of them per key)
        await foreach (EventBlock block in new PartitionReader(segmentStore, def, partition, readOptions).ReadBlocksAsync(cancellationToken))
        {
            foreach (StoredEvent e in block.Events)
            {
                yield return e;
            }
        }
    }

    public async Task<PartitionCompaction> CompactPartitionAsync(int partition, CancellationToken cancellationToken)
    {
        // Leftovers of an interrupted compaction: segments already superseded by a committed one.
        List<SegmentInfo> raw = await segmentStore.ListRawSegmentsAsync(def.Name, partition, cancellationToken);
        List<SegmentInfo> segments = SegmentInfo.Resolve([.. raw]);
        foreach (SegmentInfo stale in raw.Where(r => !segments.Exists(s => s.BlobName == r.BlobName)))
        {
            await segmentStore.Store.Container.DeleteBlobIfExistsAsync(stale.BlobName, cancellationToken: cancellationToken);
        }

        if (segments.Count < 2)
        {
            return new PartitionCompaction(partition, 0, 0, 0, 0, 0, 0, 0);
        }

        List<SegmentInfo> closed = segments[..^1];
        long activeBase = segments[^1].BaseOffset;

        // Pass 1: the latest delivered offset of every key in the whole partition (the active segment included), and the
        // stored copies of sequenced writes as a reader's duplicate filter sees them.
        var latest = new SurvivorIndex(activeBase);
        await foreach (StoredEvent e in ReadAsync(partition, new ReadOptions { From = StartPosition.Earliest }, cancellationToken))
        {
            latest.Add(e);
        }

        await StepAsync(CompactionStep.Scanned, def.Name);

        // Pass 2: size what each closed segment keeps, and group whole segments into outputs of about segmentMaxBytes.
        DateTimeOffset now = segmentStore.Store.TimeProvider.GetUtcNow();
        var groups = new List<Group> { new(closed[0].BaseOffset) };
        groups[0].Inputs.Add(closed[0]);
        int index = 0;
        void NextSegment()
        {
            index++;
            Group g = groups[^1];
            if (g.KeptBytes >= def.SegmentMaxBytes)
            {
                groups.Add(g = new Group(closed[index].BaseOffset));
            }

            g.Inputs.Add(closed[index]);
        }

        long read = 0, kept = 0, tombstonesRemoved = 0;
        await foreach (StoredEvent e in ReadAsync(partition, new ReadOptions { From = StartPosition.FromOffset(closed[0].BaseOffset), EndOffset = activeBase }, cancellationToken))
        {
            while (e.Offset >= SegmentInfo.EndOf(segments, index))
            {
                NextSegment();
            }

            Group current = groups[^1];
            read++;
            (bool keep, bool latestTombstone) = Decide(e, latest, now);
            if (!keep)
            {
                current.Removed++;
                tombstonesRemoved += latestTombstone ? 1 : 0;
                continue;
            }

            kept++;
            current.KeptBytes += BatchFormat.RecordPrefixSize + ApproximateBodySize(e.Event); // only for grouping
        }

        while (index < closed.Count - 1)
        {
            NextSegment(); // empty closed segments at the end
        }

        // Pass 3: rewrite each group that gains something, streaming: one batch in memory at a time.
        int written = 0;
        long bytesAfter = 0;
        foreach (Group g in groups)
        {
            g.End = SegmentInfo.EndOf(segments, segments.IndexOf(g.Inputs[^1]));
            if (g.Inputs.Count == 1 && g.Removed == 0)
            {
                bytesAfter += g.Inputs[0].Length; // nothing to gain: left as it is
                continue;
            }

            bytesAfter += await RewriteAsync(partition, g, latest, now, cancellationToken);
            written++;
        }

        return new PartitionCompaction(partition, closed.Count, written, read, kept, tombstonesRemoved, closed.Sum(s => s.Length), bytesAfter);
    }

    /// <summary>Whether compaction keeps an event, and whether dropping it drops a latest tombstone. The same answer in every pass.</summary>
    private (bool Keep, bool LatestTombstone) Decide(StoredEvent e, SurvivorIndex index, DateTimeOffset now)
    {
        if (index.Copies.Contains(e.Offset))
        {
            return (false, false); // a copy of a write readers already deliver: never delivered itself
        }

        if (e.Event.PartitionKey is not { } key)
        {
            return (true, false); // unkeyed: nothing supersedes it
        }

        bool isLatest = !index.Latest.TryGetValue(key, out long last) || last == e.Offset;
        bool tombstone = e.Event.Data is null;
        TimeSpan age = now - e.Timestamp;
        bool keep = (isLatest ? !tombstone || age < options.DeleteRetention : age < options.MinCompactionLag) || index.Pinned.Contains(e.Offset);
        return (keep, !keep && isLatest);
    }

    private static int ApproximateBodySize(LogEvent e) =>
        64 + (e.Data?.ToMemory().Length ?? 0) + e.Id.Length + e.Source.Length + e.Type.Length + (e.PartitionKey?.Length ?? 0) + (e.Subject?.Length ?? 0);

    private async Task<long> RewriteAsync(int partition, Group g, SurvivorIndex latest, DateTimeOffset now, CancellationToken cancellationToken)
    {
        string name = StoragePaths.CompactedSegment(def.Name, partition, g.Base, g.End, now.UtcTicks);
        BlockBlobClient blob = segmentStore.Store.Container.GetBlockBlobClient(name);
        string writer = Guid.NewGuid().ToString("N")[..8]; // block ids of concurrent compactors never mix, even on one blob name
        var blockIds = new List<string>();
        var records = new List<EncodedRecord>();
        var deltas = new List<int>();
        long baseOffset = g.Base, length = 0;
        int bytes = 0;

        // Batches tile [base, end): each starts where the previous one ended and ends after its last record
        // (the last one at the group's end), so a reader's next offset moves exactly as over the originals.
        async Task FlushAsync(long next)
        {
            long span = next - baseOffset;
            if (span > int.MaxValue)
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{def.Name}' partition {partition}: a compacted batch would span {span} offsets, more than a batch can describe.");
            }

            byte[] buffer = new byte[BatchFormat.GetBatchLength(records)];
            BatchFormat.Write(buffer, records, baseOffset, Guid.Empty, 0, blockIds.Count, deltas, (int)span);
            string id = Convert.ToBase64String(Encoding.ASCII.GetBytes(writer + blockIds.Count.ToString("D8", CultureInfo.InvariantCulture)));
            using (var ms = new MemoryStream(buffer, writable: false))
            {
                await blob.StageBlockAsync(id, ms, cancellationToken: cancellationToken);
            }

            blockIds.Add(id);
            length += buffer.Length;
            baseOffset = next;
            records.Clear();
            deltas.Clear();
            bytes = 0;
        }

        await foreach (StoredEvent e in ReadAsync(partition, new ReadOptions { From = StartPosition.FromOffset(g.Base), EndOffset = g.End }, cancellationToken))
        {
            if (!Decide(e, latest, now).Keep)
            {
                continue;
            }

            long timestamp = e.Timestamp.ToUnixTimeMilliseconds();
            byte[] body = EventCodec.EncodeBody(e.Event, timestamp);
            if (e.Offset - baseOffset > int.MaxValue - 1)
            {
                await FlushAsync(e.Offset); // an (empty) batch covers a gap too wide for one batch
            }

            if (records.Count > 0 && records[0].Mark?.Writer != e.Mark?.Writer)
            {
                await FlushAsync(e.Offset); // a sequenced batch is one writer's: its mark stays readable after compaction
            }

            records.Add(new EncodedRecord(timestamp, body, e.Mark));
            deltas.Add((int)(e.Offset - baseOffset));
            bytes += BatchFormat.RecordPrefixSize + body.Length;
            if (bytes >= options.TargetBatchBytes)
            {
                await FlushAsync(e.Offset + 1);
            }
        }

        await FlushAsync(g.End); // possibly empty: it still spans the rest of the range

        await StepAsync(CompactionStep.Staged, name);
        await CheckStreamAsync(cancellationToken); // never commit a segment into a stream deleted (or re-created) meanwhile
        try
        {
            // The switch: one request makes the whole new segment visible, and with it the old ones hidden.
            await blob.CommitBlockListAsync(
                blockIds,
                new CommitBlockListOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    Metadata = new Dictionary<string, string> { ["compactedsegments"] = g.Inputs.Count.ToString(CultureInfo.InvariantCulture), ["removedevents"] = g.Removed.ToString(CultureInfo.InvariantCulture) },
                },
                cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409 || ex.Status == 412)
        {
            return length; // a concurrent compactor (or our own lost-response retry) committed this name first
        }

        await StepAsync(CompactionStep.Committed, name);
        foreach (SegmentInfo old in g.Inputs)
        {
            await segmentStore.Store.Container.DeleteBlobIfExistsAsync(old.BlobName, cancellationToken: cancellationToken);
            await StepAsync(CompactionStep.Deleted, old.BlobName);
        }

        return length;
    }

    /// <summary>Stops the compaction when its stream was deleted or re-created since it started (a delete racing the compaction service).</summary>
    private async Task CheckStreamAsync(CancellationToken cancellationToken)
    {
        StreamDefinition? current = await streams.TryGetStreamAsync(def.Name, cancellationToken);
        if (current is null || current.CreatedAt != def.CreatedAt)
        {
            throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{def.Name}' was deleted{(current is null ? "" : " and created again")} while it was being compacted; the compaction stopped without writing into it.");
        }
    }

    private Task StepAsync(CompactionStep step, string what) => options.OnStep?.Invoke(step, what) ?? Task.CompletedTask;

    private sealed class Group(long baseOffset)
    {
        public long Base { get; } = baseOffset;

        public long End { get; set; }

        public List<SegmentInfo> Inputs { get; } = [];

        public long KeptBytes { get; set; }

        public int Removed { get; set; }
    }
}
