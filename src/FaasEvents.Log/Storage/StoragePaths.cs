using System.Globalization;

namespace FaasEvents.Log.Storage;

/// <summary>Blob names of the storage layout (docs/storage-format.md). Every path is built here.</summary>
internal static class StoragePaths
{
    public const string StreamsRoot = "streams/";
    public const string GroupsRoot = "groups/";

    public static string StreamPrefix(string stream) => $"streams/{stream}/";

    public static string StreamDocument(string stream) => $"streams/{stream}/stream.json";

    public static string PartitionPrefix(string stream, int partition) =>
        $"streams/{stream}/{partition.ToString("D5", CultureInfo.InvariantCulture)}/";

    public static string Segment(string stream, int partition, long baseOffset) =>
        PartitionPrefix(stream, partition) + baseOffset.ToString("D20", CultureInfo.InvariantCulture);

    public static string GroupStreamPrefix(string group, string stream) => $"groups/{group}/{stream}/";

    public static string Checkpoint(string group, string stream, int partition) =>
        GroupStreamPrefix(group, stream) + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses <c>streams/{s}/{ppppp}/{oooo...}</c>; false for anything else (e.g. stream.json).</summary>
    public static bool TryParseSegment(string blobName, out int partition, out long baseOffset)
    {
        partition = 0;
        baseOffset = 0;
        string[] parts = blobName.Split('/');
        return parts.Length == 4 && parts[0] == "streams"
            && parts[2].Length == 5 && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out partition)
            && parts[3].Length == 20 && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset);
    }
}
