using System.Globalization;
using FaasEvents.Log;

namespace FaasEvents.Server.Browse;

/// <summary>
/// What <c>GET /streams/{stream}/events</c> asks for: where to start in each partition (earliest, latest, an offset, a
/// time, or a cursor from the previous page), which partition, filters (key, type, id; exact), and how many.
/// </summary>
/// <param name="Partition">One partition, or null for all.</param>
/// <param name="From">earliest, latest (the last <paramref name="Limit"/> events of each partition), an offset, or an ISO 8601 time, as given.</param>
/// <param name="FromOffset"><paramref name="From"/> read as an offset, when it is one.</param>
/// <param name="FromTime"><paramref name="From"/> read as a time, when it is one.</param>
/// <param name="Cursor">The previous page's <c>next</c>: partition=offset pairs, comma separated (overrides <paramref name="From"/>).</param>
/// <param name="Key">Only events with this partition key.</param>
/// <param name="Type">Only events of this CloudEvents type.</param>
/// <param name="Id">Only events with this id.</param>
/// <param name="Limit">Most events returned (1-500).</param>
internal sealed record EventQuery(int? Partition, string From, long? FromOffset, DateTimeOffset? FromTime, IReadOnlyDictionary<int, long>? Cursor, string? Key, string? Type, string? Id, int Limit)
{
    /// <summary>Most events one page reads per partition while filtering (a filter that matches rarely pages on, it never scans a whole stream at once).</summary>
    public const int ScanPerPartition = 5_000;

    /// <summary>Parses the query string; throws <see cref="EventLogErrorReason.InvalidArgument"/> naming the bad parameter.</summary>
    public static EventQuery Parse(int? partition, string? from, string? cursor, string? key, string? type, string? id, int? limit)
    {
        int n = limit ?? 50;
        if (n is < 1 or > 500)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"limit {n} must be between 1 and 500.");
        }

        string start = string.IsNullOrWhiteSpace(from) ? "earliest" : from.Trim();
        long? offset = long.TryParse(start, NumberStyles.None, CultureInfo.InvariantCulture, out long o) ? o : null;
        DateTimeOffset? time = offset is null && DateTimeOffset.TryParse(start, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset t) ? t : null;
        if (start is not ("earliest" or "latest") && offset is null && time is null)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"from '{start}' must be earliest, latest, an offset or an ISO 8601 time (e.g. 2026-12-07T10:00:00Z).");
        }

        return new EventQuery(partition, start, offset, time, cursor is null ? null : ParseCursor(cursor), Empty(key), Empty(type), Empty(id), n);
    }

    private static string? Empty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static Dictionary<int, long> ParseCursor(string cursor)
    {
        var next = new Dictionary<int, long>();
        foreach (string pair in cursor.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] parts = pair.Split('=');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int p) || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long o))
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, $"cursor '{cursor}' must be partition=offset pairs separated by commas (the previous page's 'next').");
            }

            next[p] = o;
        }

        return next;
    }
}
