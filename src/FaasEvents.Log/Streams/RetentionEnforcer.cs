using Azure;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Storage;

namespace FaasEvents.Log.Streams;

/// <summary>Applies a stream's retention: deletes whole segments past its limits, oldest first, never a partition's last one.</summary>
internal sealed class RetentionEnforcer
{
    private readonly SegmentStore segments;

    public RetentionEnforcer(SegmentStore segments) => this.segments = segments;

    /// <summary>Deletes the segments of <paramref name="def"/> past its retention; returns them.</summary>
    public async Task<IReadOnlyList<DeletedSegment>> ApplyAsync(StreamDefinition def, CancellationToken cancellationToken)
    {
        var deleted = new List<DeletedSegment>();
        if (def.Retention.IsInfinite)
        {
            return deleted;
        }

        DateTimeOffset now = segments.Store.TimeProvider.GetUtcNow();
        foreach ((int partition, List<SegmentInfo> list) in await segments.ListAllSegmentsAsync(def.Name, cancellationToken))
        {
            long total = list.Sum(s => s.Length);
            for (int i = 0; i < list.Count - 1; i++)
            {
                SegmentInfo s = list[i];
                bool expired = def.Retention.MaxAge is { } age && s.LastModified < now - age;
                bool overSize = def.Retention.MaxBytes is { } max && total > max;
                if (!expired && !overSize)
                {
                    break; // delete oldest first only, so the retained offsets stay contiguous
                }

                try
                {
                    await segments.Store.Container.GetBlobClient(s.BlobName).DeleteAsync(cancellationToken: cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    // Another retention run got there first.
                }

                total -= s.Length;
                deleted.Add(new DeletedSegment(partition, s.BaseOffset, list[i + 1].BaseOffset, s.Length));
            }
        }

        return deleted;
    }
}
