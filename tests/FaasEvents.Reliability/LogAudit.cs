using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;

namespace FaasEvents.Reliability;

/// <summary>Reads a whole stream and checks its offsets: every offset held by exactly one event, contiguous per partition.</summary>
public static class LogAudit
{
    /// <summary>
    /// Every event of every partition, in partition then offset order: as consumers get them (each sequenced write once),
    /// or with <paramref name="stored"/> every stored record, copies of sequenced writes included.
    /// </summary>
    public static async Task<List<StoredEvent>> ReadAllAsync(EventLogClient log, string stream, CancellationToken cancellationToken = default, bool stored = false)
    {
        StreamDefinition def = await log.GetStreamAsync(stream, cancellationToken);
        var all = new List<StoredEvent>();
        for (int p = 0; p < def.Partitions; p++)
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync(stream, p, new ReadOptions { Deduplicate = !stored }, cancellationToken))
            {
                all.Add(e);
            }
        }

        return all;
    }

    /// <summary>Offsets that repeat within a partition, plus gaps in an uncompacted partition (each counts once).</summary>
    public static long ReusedOrMissingOffsets(IEnumerable<StoredEvent> events)
    {
        long bad = 0;
        foreach (IGrouping<int, StoredEvent> partition in events.GroupBy(e => e.Partition))
        {
            long expected = -1;
            foreach (StoredEvent e in partition)
            {
                if (expected >= 0 && e.Offset != expected)
                {
                    bad++;
                }

                expected = e.Offset + 1;
            }
        }

        return bad;
    }
}
