using System.Text.Json;
using System.Text.Json.Serialization;
using FaasEvents.Log.Format;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Storage;

/// <summary>The JSON shape of <c>stream.json</c> (format version 1).</summary>
internal sealed class StreamDocument
{
    public int FormatVersion { get; set; } = 1;

    public string Name { get; set; } = "";

    public int Partitions { get; set; }

    public string Kind { get; set; } = "events";

    public RetentionDocument Retention { get; set; } = new();

    public long SegmentMaxBytes { get; set; }

    public int SegmentMaxBlocks { get; set; }

    /// <summary>Entity streams only (null for event streams, and in documents written before compaction existed).</summary>
    public CompactionDocument? Compaction { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Metadata on stream.json marking a stream whose delete has begun: it no longer exists for readers and writers.</summary>
    public const string DeletingKey = "deleting";

    public static bool IsDeleting(IDictionary<string, string> metadata) => metadata.ContainsKey(DeletingKey);

    public static StreamDefinition Parse(string name, BinaryData content)
    {
        StreamDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<StreamDocument>(content.ToMemory().Span, Json);
        }
        catch (JsonException ex)
        {
            throw new EventLogException(EventLogErrorReason.CorruptData, $"streams/{name}/stream.json is not valid JSON: {ex.Message}", ex);
        }

        if (doc is null || doc.FormatVersion != BatchFormat.FormatVersion)
        {
            throw new EventLogException(EventLogErrorReason.CorruptData, $"streams/{name}/stream.json has format version {doc?.FormatVersion}; this client understands {BatchFormat.FormatVersion}.");
        }

        return doc.ToDefinition();
    }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static StreamDocument From(StreamDefinition d) => new()
    {
        FormatVersion = d.FormatVersion,
        Name = d.Name,
        Partitions = d.Partitions,
        Kind = d.Kind == StreamKind.Entities ? "entities" : "events",
        Retention = new RetentionDocument
        {
            MaxAgeMs = d.Retention.MaxAge is { } a ? (long)a.TotalMilliseconds : null,
            MaxBytes = d.Retention.MaxBytes,
        },
        SegmentMaxBytes = d.SegmentMaxBytes,
        SegmentMaxBlocks = d.SegmentMaxBlocks,
        Compaction = d.Kind == StreamKind.Entities
            ? new CompactionDocument { DeleteRetentionMs = (long)d.DeleteRetention.TotalMilliseconds, MinCompactionLagMs = (long)d.MinCompactionLag.TotalMilliseconds }
            : null,
        CreatedAt = d.CreatedAt,
    };

    public StreamDefinition ToDefinition() => new()
    {
        FormatVersion = FormatVersion,
        Name = Name,
        Partitions = Partitions,
        Kind = Kind == "entities" ? StreamKind.Entities : StreamKind.Events,
        Retention = new RetentionPolicy(Retention.MaxAgeMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, Retention.MaxBytes),
        SegmentMaxBytes = SegmentMaxBytes,
        SegmentMaxBlocks = SegmentMaxBlocks,
        DeleteRetention = Compaction is { } c ? TimeSpan.FromMilliseconds(c.DeleteRetentionMs) : TimeSpan.FromHours(24),
        MinCompactionLag = Compaction is { } m ? TimeSpan.FromMilliseconds(m.MinCompactionLagMs) : TimeSpan.Zero,
        CreatedAt = CreatedAt,
    };

    internal sealed class CompactionDocument
    {
        public long DeleteRetentionMs { get; set; }

        public long MinCompactionLagMs { get; set; }
    }

    internal sealed class RetentionDocument
    {
        public long? MaxAgeMs { get; set; }

        public long? MaxBytes { get; set; }
    }
}
