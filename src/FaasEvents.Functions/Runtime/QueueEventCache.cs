using FaasEvents.Functions.Storage;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// The events of one partition a queue consumer acquires, read ahead: a read takes what was acquired and up to
/// <c>readAhead</c> events more, so most rounds need no read at all; each read starts from a known batch
/// position (the batch holding the offset, or the end of the one before it), so it costs one ranged read, not a scan.
/// </summary>
internal sealed class QueueEventCache(IPartitionSource source, string stream, int partition, int readAhead)
{
    private const int MaxBlocks = 256;
    private readonly SortedDictionary<long, StoredEvent> events = [];
    private readonly SortedDictionary<long, (long Next, LogPosition Start, LogPosition End)> blocks = [];

    /// <summary>
    /// The stored events at <paramref name="offsets"/> (ascending) that exist, read from the log when not cached; an
    /// offset missing from the result has no event to deliver (removed by retention or compaction, or a copy of a
    /// sequenced write already stored).
    /// </summary>
    public async Task<IReadOnlyDictionary<long, StoredEvent>> GetAsync(IReadOnlyList<long> offsets, long endOffset, CancellationToken cancellationToken)
    {
        var found = new Dictionary<long, StoredEvent>(offsets.Count);
        long? firstMissing = null;
        long lastMissing = 0;
        foreach (long offset in offsets)
        {
            if (events.Remove(offset, out StoredEvent? hit))
            {
                found[offset] = hit;
            }
            else
            {
                firstMissing ??= offset;
                lastMissing = offset;
            }
        }

        if (firstMissing is not { } from)
        {
            return found;
        }

        long until = Math.Min(Math.Max(endOffset, lastMissing + 1), lastMissing + 1 + readAhead);
        var read = new ReadOptions { From = StartPosition.FromOffset(from), Follow = false, EndOffset = until, StartAtEarliestIfTruncated = true, PositionHint = HintFor(from) };
        var wanted = new HashSet<long>(offsets);
        await foreach (EventBlock block in source.ReadAsync(stream, partition, read, cancellationToken))
        {
            if (block.Events.Count == 0)
            {
                continue;
            }

            Remember(block);
            foreach (StoredEvent e in block.Events)
            {
                if (e.Offset < from || e.Offset >= until)
                {
                    continue;
                }

                if (wanted.Contains(e.Offset))
                {
                    found[e.Offset] = e;
                }
                else if (e.Offset > lastMissing)
                {
                    events[e.Offset] = e; // read ahead for the next rounds
                }
            }
        }

        Trim();
        return found;
    }

    private LogPosition? HintFor(long offset)
    {
        foreach ((long first, (long next, LogPosition start, LogPosition end)) in blocks.Reverse())
        {
            if (first <= offset && offset < next)
            {
                return start;
            }

            if (next == offset)
            {
                return end;
            }

            if (next < offset)
            {
                break;
            }
        }

        return null;
    }

    private void Remember(EventBlock block) => blocks[block.Events[0].Offset] = (block.Events[^1].Offset + 1, block.Start, block.End);

    private void Trim()
    {
        while (events.Count > Math.Max(64, readAhead * 4))
        {
            events.Remove(events.Keys.First());
        }

        while (blocks.Count > MaxBlocks)
        {
            blocks.Remove(blocks.Keys.First());
        }
    }
}
