using System.Text.Json;
using System.Text.Json.Serialization;

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

    public DateTimeOffset CreatedAt { get; set; }

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
        CreatedAt = CreatedAt,
    };

    internal sealed class RetentionDocument
    {
        public long? MaxAgeMs { get; set; }

        public long? MaxBytes { get; set; }
    }
}
