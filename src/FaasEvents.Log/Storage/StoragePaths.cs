using System.Globalization;

namespace FaasEvents.Log.Storage;

/// <summary>Blob names of the storage layout (docs/storage-format.md). Every path is built here.</summary>
internal static class StoragePaths
{
    public const string StreamsRoot = "streams/";
    public const string GroupsRoot = "groups/";

    public static string StreamPrefix(string stream) => $"streams/{stream}/";

    public static string StreamDocument(string stream) => $"streams/{stream}/stream.json";

    public const string MaintenanceRoot = "maintenance/";

    public const string SchemasRoot = "schemas/";

    public const string QueuesRoot = "queues/";

    /// <summary>A partition consumed as a queue: <c>queues/{stream}/{createdAt:ticks}/{group}/{partition:D5}.json</c>.</summary>
    public static string Queue(string stream, DateTimeOffset createdAt, string group, int partition) =>
        $"{QueuesRoot}{stream}/{createdAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}/{group}/{partition.ToString("D5", CultureInfo.InvariantCulture)}.json";

    /// <summary>
    /// A stream's contract: <c>schemas/{stream}/{createdAt:ticks}/{version:D6}.json</c> and <c>.../config.json</c>. The
    /// stream's creation time in the path keeps a deleted stream's schemas from applying to a new one of the same name.
    /// </summary>
    public static string SchemasPrefix(string stream, DateTimeOffset createdAt) =>
        $"{SchemasRoot}{stream}/{createdAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}/";

    /// <summary>
    /// The last pass of a kind (retention, compaction) over a stream: <c>maintenance/{stream}/{kind}.json</c>, outside
    /// the stream's prefix so a record written while the stream is deleted never looks like leftover segments.
    /// </summary>
    public static string StreamPass(string stream, string kind) => $"{MaintenanceRoot}{stream}/{kind}.json";

    public static string PartitionPrefix(string stream, int partition) =>
        $"streams/{stream}/{partition.ToString("D5", CultureInfo.InvariantCulture)}/";

    public static string Segment(string stream, int partition, long baseOffset) =>
        PartitionPrefix(stream, partition) + baseOffset.ToString("D20", CultureInfo.InvariantCulture);

    public static string GroupStreamPrefix(string group, string stream) => $"groups/{group}/{stream}/";

    public static string Checkpoint(string group, string stream, int partition) =>
        GroupStreamPrefix(group, stream) + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A checkpoint's duplicate-filter state too large for its metadata: <c>groups/{group}/{stream}/{partition}.writers/{nextOffset:D20}-{nonce}</c>,
    /// a new blob per checkpoint that spills (so a failed checkpoint never overwrites the state the stored one names).
    /// </summary>
    public static string WritersState(string group, string stream, int partition, long nextOffset) =>
        $"{Checkpoint(group, stream, partition)}.writers/{nextOffset.ToString("D20", CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>True for a blob of <see cref="WritersState"/> (<c>groups/{g}/{s}/{p}.writers/...</c>, split at '/').</summary>
    public static bool IsWritersState(string[] parts) => parts.Length == 5 && parts[0] == "groups" && parts[3].EndsWith(".writers", StringComparison.Ordinal);

    /// <summary>
    /// A compacted segment: <c>{base:D20}-{end:D20}-{stamp:D19}</c>. It holds offsets [base, end) with gaps and
    /// supersedes every segment whose range it covers; among equal ranges the larger stamp wins.
    /// </summary>
    public static string CompactedSegment(string stream, int partition, long baseOffset, long endOffset, long stamp) =>
        PartitionPrefix(stream, partition) + string.Create(CultureInfo.InvariantCulture, $"{baseOffset:D20}-{endOffset:D20}-{stamp:D19}");

    /// <summary>Parses <c>streams/{s}/{ppppp}/{oooo...}</c>; false for anything else (e.g. stream.json).</summary>
    public static bool TryParseSegment(string blobName, out int partition, out long baseOffset) =>
        TryParseSegment(blobName, out partition, out baseOffset, out _);

    /// <summary>As above; <paramref name="endOffset"/> is set for a compacted segment (null for an appended one).</summary>
    public static bool TryParseSegment(string blobName, out int partition, out long baseOffset, out long? endOffset)
    {
        partition = 0;
        baseOffset = 0;
        endOffset = null;
        string[] parts = blobName.Split('/');
        if (parts.Length != 4 || parts[0] != "streams" || parts[2].Length != 5 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out partition))
        {
            return false;
        }

        string leaf = parts[3];
        if (leaf.Length == 20)
        {
            return long.TryParse(leaf, NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset);
        }

        if (leaf.Length == 61 && leaf[20] == '-' && leaf[41] == '-'
            && long.TryParse(leaf.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset)
            && long.TryParse(leaf.AsSpan(21, 20), NumberStyles.None, CultureInfo.InvariantCulture, out long end)
            && long.TryParse(leaf.AsSpan(42, 19), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            && end > baseOffset)
        {
            endOffset = end;
            return true;
        }

        return false;
    }
}
