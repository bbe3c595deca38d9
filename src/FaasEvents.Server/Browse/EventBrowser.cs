using System.Globalization;
using System.Text.Json.Nodes;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;

namespace FaasEvents.Server.Browse;

/// <summary>
/// Pages through a stream's events for the console's event browser (and any script): each partition is read from the
/// query's start with ranged reads, filtered, and the page is the first <see cref="EventQuery.Limit"/> matches in time
/// order across partitions; <c>next</c> says where each partition continues (null when every partition was read to its
/// end). A page reads at most <see cref="EventQuery.ScanPerPartition"/> events per partition.
/// </summary>
internal sealed class EventBrowser(EventLogClient log)
{
    public async Task<JsonObject> BrowseAsync(string stream, EventQuery q, CancellationToken cancellationToken)
    {
        IReadOnlyList<PartitionInfo> parts = await log.GetPartitionsAsync(stream, cancellationToken);
        if (q.Partition is { } only && (only < 0 || only >= parts.Count))
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"partition {only} does not exist: '{stream}' has partitions 0-{parts.Count - 1}.");
        }

        var found = new List<StoredEvent>();
        var next = new Dictionary<int, long>();
        long scanned = 0;
        foreach (PartitionInfo p in parts.Where(p => q.Partition is null || p.Partition == q.Partition))
        {
            if (q.Cursor is not null && !q.Cursor.ContainsKey(p.Partition))
            {
                continue; // read to its end on an earlier page
            }

            StartPosition from = Start(q, p);
            var matches = new List<StoredEvent>();
            long reached = -1;
            int read = 0;
            var options = new ReadOptions { From = from, StartAtEarliestIfTruncated = true, EndOffset = p.EndOffset };
            await foreach (StoredEvent e in log.ReadPartitionAsync(stream, p.Partition, options, cancellationToken))
            {
                read++;
                reached = e.Offset + 1;
                if (Matches(e.Event, q))
                {
                    matches.Add(e);
                }

                if (matches.Count >= q.Limit || read >= EventQuery.ScanPerPartition)
                {
                    break;
                }
            }

            scanned += read;
            found.AddRange(matches);
            if (reached >= 0 && reached < p.EndOffset)
            {
                next[p.Partition] = reached;
            }
        }

        List<StoredEvent> page = [.. found.OrderBy(e => e.Timestamp).ThenBy(e => e.Partition).ThenBy(e => e.Offset).Take(q.Limit)];
        // A partition whose matches did not all fit continues after the last one shown.
        foreach (IGrouping<int, StoredEvent> cut in found.Except(page).GroupBy(e => e.Partition))
        {
            next[cut.Key] = cut.Min(e => e.Offset);
        }

        var events = new JsonArray();
        foreach (StoredEvent e in page)
        {
            JsonObject json = CloudEventConverter.ToStructuredJson(e);
            json["timestamp"] = e.Timestamp.ToString("O", CultureInfo.InvariantCulture);
            json["tombstone"] = e.Event.IsTombstone;
            events.Add(json);
        }

        return new JsonObject
        {
            ["stream"] = stream,
            ["events"] = events,
            ["scanned"] = scanned,
            ["next"] = next.Count == 0 ? null : string.Join(',', next.OrderBy(kv => kv.Key).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value}"))),
        };
    }

    private static StartPosition Start(EventQuery q, PartitionInfo p)
    {
        if (q.Cursor is not null)
        {
            return StartPosition.FromOffset(q.Cursor[p.Partition]);
        }

        return q switch
        {
            { FromOffset: { } offset } => StartPosition.FromOffset(Math.Max(offset, p.EarliestOffset)),
            { FromTime: { } time } => StartPosition.FromTime(time),
            { From: "latest" } => StartPosition.FromOffset(Math.Max(p.EarliestOffset, p.EndOffset - q.Limit)),
            _ => StartPosition.Earliest,
        };
    }

    private static bool Matches(LogEvent e, EventQuery q) =>
        (q.Key is null || string.Equals(e.PartitionKey, q.Key, StringComparison.Ordinal))
        && (q.Type is null || string.Equals(e.Type, q.Type, StringComparison.Ordinal))
        && (q.Id is null || string.Equals(e.Id, q.Id, StringComparison.Ordinal));
}
