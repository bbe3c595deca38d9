using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Consumers;

/// <summary>
/// Tracks the end offsets of a stream's partitions cheaply: each refresh is one listing of the stream, plus one
/// footer read only for partitions whose last segment changed since the previous refresh. The same listing shows
/// whether the stream's definition is still the one read first: a deleted stream fails with StreamNotFound, a
/// re-created one is read again. Made for pollers (scalers, dashboards). Thread-safe; concurrent refreshes share one
/// storage round.
/// </summary>
public sealed class EndOffsetTracker
{
    private readonly SegmentStore segments;
    private readonly StreamCatalog streams;
    private readonly Dictionary<int, (string Blob, long Length, long EarliestOffset, PartitionInfo Info)> known = [];
    private readonly SemaphoreSlim gate = new(1, 1);
    private StreamDefinition? definition;
    private Azure.ETag? definitionTag;

    internal EndOffsetTracker(SegmentStore segments, StreamCatalog streams, string stream)
    {
        StreamDefinition.ValidateName(stream, "stream");
        this.segments = segments;
        this.streams = streams;
        Stream = stream;
    }

    /// <summary>The stream tracked.</summary>
    public string Stream { get; }

    /// <summary>When the stream was created, as the last refresh found its definition (null before the first).</summary>
    public DateTimeOffset? CreatedAt => definition?.CreatedAt;

    /// <summary>Footer reads made so far (for measuring cost).</summary>
    public long FooterReads { get; private set; }

    /// <summary>Refreshes and returns every partition's extent.</summary>
    public async Task<IReadOnlyList<PartitionInfo>> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            (Dictionary<int, List<SegmentInfo>> all, Azure.ETag? document) = await segments.ListStreamAsync(Stream, cancellationToken);
            if (document is null)
            {
                // Deleted (or being deleted) since the last refresh: say so, never report its partitions as empty.
                definition = null;
                known.Clear();
                await streams.GetStreamAsync(Stream, cancellationToken); // throws StreamNotFound naming the fix
            }

            if (definition is null || document != definitionTag)
            {
                definition = await streams.GetStreamAsync(Stream, cancellationToken); // first refresh, or re-created since
                definitionTag = document;
                known.Clear();
            }

            var result = new PartitionInfo[definition.Partitions];
            var changed = new List<(int Partition, List<SegmentInfo> Segments, string Blob, long Length, long Earliest)>();
            for (int p = 0; p < definition.Partitions; p++)
            {
                List<SegmentInfo> segments = all.TryGetValue(p, out List<SegmentInfo>? s) ? s : [];
                string blob = segments.Count > 0 ? segments[^1].BlobName : "";
                long length = segments.Count > 0 ? segments[^1].Length : 0;
                long earliest = segments.Count > 0 ? segments[0].BaseOffset : 0;
                if (known.TryGetValue(p, out var k) && k.Blob == blob && k.Length == length)
                {
                    result[p] = k.Info with { EarliestOffset = earliest, Segments = segments.Count, Bytes = segments.Sum(x => x.Length) };
                }
                else
                {
                    changed.Add((p, segments, blob, length, earliest));
                }
            }

            // Read the changed tails in parallel; 'known' is only written after all reads, never while being read.
            PartitionInfo[] fresh = await Task.WhenAll(changed.Select(async c =>
            {
                PartitionTail tail = await this.segments.ReadTailAsync(Stream, c.Partition, c.Segments, cancellationToken);
                return new PartitionInfo(c.Partition, c.Earliest, tail.NextOffset, c.Segments.Count, c.Segments.Sum(x => x.Length), c.Segments.Count > 0 ? c.Segments[^1].LastModified : null);
            }));
            for (int i = 0; i < changed.Count; i++)
            {
                known[changed[i].Partition] = (changed[i].Blob, changed[i].Length, changed[i].Earliest, fresh[i]);
                result[changed[i].Partition] = fresh[i];
                FooterReads += changed[i].Length > 0 ? 1 : 0;
            }

            return result;
        }
        finally
        {
            gate.Release();
        }
    }
}
