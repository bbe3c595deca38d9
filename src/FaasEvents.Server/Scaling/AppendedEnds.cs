using System.Collections.Concurrent;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;

namespace FaasEvents.Server.Scaling;

/// <summary>
/// End offsets this server's own appends (ingress, ping sources) reached since storage was last read, so lag can
/// show them at once without re-listing the stream per append. Each note carries a generation; a storage read that
/// started after a note already includes it, so the note is no longer applied (storage stays the authority, and a
/// deleted and recreated stream cannot keep an old end forever).
/// </summary>
public sealed class AppendedEnds
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<int, Note>> streams = new(StringComparer.Ordinal);
    private long generation;

    /// <summary>The generation a storage read starting now is taken at.</summary>
    public long Current => Interlocked.Read(ref generation);

    /// <summary>Records that events were written at these positions of the stream.</summary>
    public void Record(string stream, IEnumerable<EventPosition> positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        ConcurrentDictionary<int, Note> notes = streams.GetOrAdd(stream, _ => new ConcurrentDictionary<int, Note>());
        foreach (EventPosition p in positions)
        {
            long g = Interlocked.Increment(ref generation);
            notes.AddOrUpdate(p.Partition, _ => new Note(p.Offset + 1, g), (_, old) => new Note(Math.Max(old.End, p.Offset + 1), g));
        }
    }

    /// <summary>The partitions as read from storage at <paramref name="readAt"/>, with later appends' ends applied.</summary>
    public IReadOnlyList<PartitionInfo> Apply(string stream, IReadOnlyList<PartitionInfo> read, long readAt)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (!streams.TryGetValue(stream, out ConcurrentDictionary<int, Note>? notes) || notes.IsEmpty)
        {
            return read;
        }

        return read.Select(p => notes.TryGetValue(p.Partition, out Note n) && n.Generation > readAt && n.End > p.EndOffset ? p with { EndOffset = n.End } : p).ToList();
    }

    /// <summary>Forgets the stream (it was deleted).</summary>
    public void Forget(string stream) => streams.TryRemove(stream, out _);

    private readonly record struct Note(long End, long Generation);
}
