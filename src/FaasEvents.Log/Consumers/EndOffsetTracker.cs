using FaasEvents.Log.Storage;

namespace FaasEvents.Log;

/// <summary>
/// Tracks the end offsets of a stream's partitions cheaply: each refresh is one listing of the stream, plus one
/// footer read only for partitions whose last segment changed since the previous refresh. Made for pollers
/// (scalers, dashboards). Thread-safe; concurrent refreshes share one storage round.
/// </summary>
public sealed class EndOffsetTracker
{
    private readonly EventLogClient log;
    private readonly Dictionary<int, (string Blob, long Length, long EarliestOffset, PartitionInfo Info)> known = [];
    private readonly SemaphoreSlim gate = new(1, 1);
    private StreamDefinition? definition;

    internal EndOffsetTracker(EventLogClient log, string stream)
    {
        StreamDefinition.ValidateName(stream, "stream");
        this.log = log;
        Stream = stream;
    }

    /// <summary>The stream tracked.</summary>
    public string Stream { get; }

    /// <summary>Footer reads made so far (for measuring cost).</summary>
    public long FooterReads { get; private set; }

    /// <summary>Refreshes and returns every partition's extent.</summary>
    public async Task<IReadOnlyList<PartitionInfo>> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            definition ??= await log.GetStreamAsync(Stream, cancellationToken);
            Dictionary<int, List<SegmentInfo>> all = await log.ListAllSegmentsAsync(Stream, cancellationToken);
            var result = new PartitionInfo[definition.Partitions];
            var changed = new List<Task>();
            for (int p = 0; p < definition.Partitions; p++)
            {
                List<SegmentInfo> segments = all.TryGetValue(p, out List<SegmentInfo>? s) ? s : [];
                string blob = segments.Count > 0 ? segments[^1].BlobName : "";
                long length = segments.Count > 0 ? segments[^1].Length : 0;
                long earliest = segments.Count > 0 ? segments[0].BaseOffset : 0;
                if (known.TryGetValue(p, out var k) && k.Blob == blob && k.Length == length)
                {
                    result[p] = k.Info with { EarliestOffset = earliest, Segments = segments.Count, Bytes = segments.Sum(x => x.Length) };
                    continue;
                }

                int partition = p;
                changed.Add(Task.Run(
                    async () =>
                    {
                        PartitionTail tail = await log.ReadTailAsync(Stream, partition, segments, cancellationToken);
                        var info = new PartitionInfo(partition, earliest, tail.NextOffset, segments.Count, segments.Sum(x => x.Length), segments.Count > 0 ? segments[^1].LastModified : null);
                        lock (known)
                        {
                            known[partition] = (blob, length, earliest, info);
                            result[partition] = info;
                            if (length > 0)
                            {
                                FooterReads++;
                            }
                        }
                    },
                    cancellationToken));
            }

            await Task.WhenAll(changed);
            return result;
        }
        finally
        {
            gate.Release();
        }
    }
}
