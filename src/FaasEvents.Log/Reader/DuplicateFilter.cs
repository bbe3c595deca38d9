using FaasEvents.Log.Events;
using FaasEvents.Log.Format;

namespace FaasEvents.Log.Reader;

/// <summary>
/// Delivers each sequenced write of a partition once (docs/storage-format.md, "The reader filter"): per writer it keeps
/// the highest sequence delivered, and a record at or below it is a duplicate (a re-run's or a zombie's copy). Records
/// without a <see cref="WriterMark"/> are always delivered. A consumer that checkpoints stores the filter's state with
/// its checkpoint (<see cref="Settle"/>), so a successor that resumes there knows what was delivered before.
/// </summary>
public sealed class DuplicateFilter
{
    /// <summary>
    /// The longest encoded state kept with a checkpoint: 4 MiB, about 110,000 writers active within the window. Up to
    /// 6 KiB (about 165 writers) it is stored in the checkpoint's metadata, above that in a blob the checkpoint names.
    /// </summary>
    public const int MaxEncodedLength = 4 * 1024 * 1024;

    /// <summary>How long a writer that wrote nothing is remembered. <value>7 days.</value></summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(7);

    private const byte FormatVersion = 1;
    private const int SecondsPerDay = 86_400;

    private readonly Lock gate = new(); // a consumer's read loop admits while its checkpointer settles
    private readonly Dictionary<Guid, Entry> admitted = [];
    private readonly Dictionary<Guid, Entry> settled = [];
    private readonly Queue<(long Offset, Guid Writer, Entry Entry)> unsettled = new();
    private readonly bool tracksSettlement;

    /// <summary>A filter that starts knowing nothing (a reader from an arbitrary position).</summary>
    public DuplicateFilter()
    {
    }

    private DuplicateFilter(bool tracksSettlement) => this.tracksSettlement = tracksSettlement;

    /// <summary>How many records were skipped as duplicates.</summary>
    public long Skipped { get; private set; }

    /// <summary>How many writers the filter knows.</summary>
    public int Writers => admitted.Count;

    /// <summary>
    /// A filter for a consumer that checkpoints: it starts from the state stored with the checkpoint (null: none) and
    /// <see cref="Settle"/> says what to store with the next one. Throws <see cref="FormatException"/> for a damaged state.
    /// </summary>
    public static DuplicateFilter Restore(string? encoded)
    {
        var filter = new DuplicateFilter(tracksSettlement: true);
        foreach ((Guid writer, Entry entry) in Decode(encoded))
        {
            filter.admitted[writer] = entry;
            filter.settled[writer] = entry;
        }

        return filter;
    }

    /// <summary>True when the record is to be delivered (and remembered), false for a duplicate.</summary>
    public bool Admit(StoredEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Mark is not { } mark)
        {
            return true;
        }

        lock (gate)
        {
            if (admitted.TryGetValue(mark.Writer, out Entry known) && mark.Sequence <= known.High)
            {
                Skipped++;
                return false;
            }

            var entry = new Entry(mark.Sequence, (int)(e.Timestamp.ToUnixTimeSeconds() / SecondsPerDay));
            admitted[mark.Writer] = entry;
            if (tracksSettlement)
            {
                unsettled.Enqueue((e.Offset, mark.Writer, entry));
            }

            return true;
        }
    }

    /// <summary>
    /// The state to store with a checkpoint at <paramref name="nextOffset"/>: what was delivered below it (records admitted
    /// at or after it are not, so a successor resuming there delivers them). Writers idle for longer than
    /// <paramref name="window"/> are forgotten, and the oldest ones go first if the state would exceed
    /// <see cref="MaxEncodedLength"/>. Null when there is nothing to store.
    /// </summary>
    public string? Settle(long nextOffset, DateTimeOffset now, TimeSpan window)
    {
        lock (gate)
        {
            return SettleLocked(nextOffset, now, window);
        }
    }

    private string? SettleLocked(long nextOffset, DateTimeOffset now, TimeSpan window)
    {
        while (unsettled.TryPeek(out (long Offset, Guid Writer, Entry Entry) next) && next.Offset < nextOffset)
        {
            unsettled.Dequeue();
            settled[next.Writer] = next.Entry;
        }

        int oldest = (int)((now - window).ToUnixTimeSeconds() / SecondsPerDay);
        foreach (Guid stale in settled.Where(kv => kv.Value.Day < oldest).Select(kv => kv.Key).ToList())
        {
            settled.Remove(stale);
        }

        List<KeyValuePair<Guid, Entry>> entries = [.. settled.OrderByDescending(kv => kv.Value.Day).ThenBy(kv => kv.Key)];
        while (entries.Count > 0)
        {
            string encoded = Encode(entries);
            if (encoded.Length <= MaxEncodedLength)
            {
                return encoded;
            }

            entries.RemoveRange(entries.Count - Math.Max(1, entries.Count / 10), Math.Max(1, entries.Count / 10)); // least recently used first
        }

        return null;
    }

    private static string Encode(List<KeyValuePair<Guid, Entry>> entries)
    {
        byte[] buffer = new byte[1 + (entries.Count * (16 + (2 * Varint.MaxLength)))];
        buffer[0] = FormatVersion;
        int pos = 1;
        foreach ((Guid writer, Entry entry) in entries)
        {
            writer.TryWriteBytes(buffer.AsSpan(pos, 16), bigEndian: true, out _);
            pos += 16;
            pos += Varint.Write(buffer.AsSpan(pos), (ulong)entry.High);
            pos += Varint.Write(buffer.AsSpan(pos), (ulong)Math.Max(0, entry.Day));
        }

        return Convert.ToBase64String(buffer, 0, pos);
    }

    private static List<(Guid Writer, Entry Entry)> Decode(string? encoded)
    {
        var entries = new List<(Guid, Entry)>();
        if (string.IsNullOrEmpty(encoded))
        {
            return entries;
        }

        byte[] bytes = Convert.FromBase64String(encoded);
        if (bytes.Length == 0 || bytes[0] != FormatVersion)
        {
            throw new FormatException($"the writers state has version {(bytes.Length == 0 ? "none" : bytes[0])}; this reader understands {FormatVersion}");
        }

        ReadOnlySpan<byte> rest = bytes.AsSpan(1);
        while (!rest.IsEmpty)
        {
            if (rest.Length < 17)
            {
                throw new FormatException("the writers state is truncated");
            }

            var writer = new Guid(rest[..16], bigEndian: true);
            rest = rest[16..];
            int n = Varint.Read(rest, out ulong high);
            ulong day = 0;
            int m = n == 0 ? 0 : Varint.Read(rest[n..], out day);
            if (n == 0 || m == 0 || high > long.MaxValue || day > int.MaxValue)
            {
                throw new FormatException("the writers state has a damaged entry");
            }

            entries.Add((writer, new Entry((long)high, (int)day)));
            rest = rest[(n + m)..];
        }

        return entries;
    }

    private readonly record struct Entry(long High, int Day);
}
