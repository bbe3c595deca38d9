using FaasEvents.Log.Events;

namespace FaasEvents.Log.Compaction;

/// <summary>
/// What compaction's first pass learns from a partition read from its start, the way a reader's duplicate filter sees it
/// (docs/storage-format.md, "Compaction, retention, replay"): the latest <em>delivered</em> offset of every key (a stored
/// copy never supersedes its original), the copies in closed segments (dropped: readers never deliver them), and the
/// records a copy was recognised by (kept even when superseded, so a copy left after them is still recognised).
/// </summary>
internal sealed class SurvivorIndex(long activeBase)
{
    private readonly Dictionary<Guid, (long High, long Offset)> writers = [];

    /// <summary>Key -> offset of its latest delivered event.</summary>
    public Dictionary<string, long> Latest { get; } = new(StringComparer.Ordinal);

    /// <summary>Offsets of copies in closed segments.</summary>
    public HashSet<long> Copies { get; } = [];

    /// <summary>Offsets of records whose sequence made a later copy recognisable.</summary>
    public HashSet<long> Pinned { get; } = [];

    /// <summary>Takes the next event of the partition, in offset order.</summary>
    public void Add(StoredEvent e)
    {
        if (e.Mark is { } mark)
        {
            if (writers.TryGetValue(mark.Writer, out (long High, long Offset) known) && mark.Sequence <= known.High)
            {
                Pinned.Add(known.Offset);
                if (e.Offset < activeBase)
                {
                    Copies.Add(e.Offset);
                }

                return;
            }

            writers[mark.Writer] = (mark.Sequence, e.Offset);
        }

        if (e.Event.PartitionKey is { } key)
        {
            Latest[key] = e.Offset;
        }
    }
}
