using System.Text.RegularExpressions;

namespace FaasEvents.Log.Streams;

/// <summary>A stream's definition, stored as <c>streams/{name}/stream.json</c>.</summary>
public sealed partial record StreamDefinition
{
    /// <summary>Most partitions a stream may have.</summary>
    public const int MaxPartitions = 1024;

    /// <summary>Default segment size cap: 256 MiB.</summary>
    public const long DefaultSegmentMaxBytes = 256L * 1024 * 1024;

    /// <summary>Default block cap per segment, under the append blob's 50,000-block limit.</summary>
    public const int DefaultSegmentMaxBlocks = 45_000;

    /// <summary>The stream name: 1-200 of <c>a-z A-Z 0-9 . _ -</c>, starting with a letter or digit.</summary>
    public required string Name { get; init; }

    /// <summary>Number of partitions, 1..<see cref="MaxPartitions"/>. Fixed at creation.</summary>
    public int Partitions { get; init; } = 1;

    /// <summary>Events or entities.</summary>
    public StreamKind Kind { get; init; } = StreamKind.Events;

    /// <summary>Retention; infinite by default.</summary>
    public RetentionPolicy Retention { get; init; } = RetentionPolicy.Infinite;

    /// <summary>A segment takes no more appends once it holds this many bytes; then a new one starts.</summary>
    public long SegmentMaxBytes { get; init; } = DefaultSegmentMaxBytes;

    /// <summary>A segment takes no more appends once it holds this many batches (blocks); at most 50,000.</summary>
    public int SegmentMaxBlocks { get; init; } = DefaultSegmentMaxBlocks;

    /// <summary>
    /// Entity streams: compaction keeps a tombstone that is the latest for its key this long, so consumers see the
    /// delete (Kafka's <c>delete.retention.ms</c>). <value>Default: 24 h.</value>
    /// </summary>
    public TimeSpan DeleteRetention { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Entity streams: compaction keeps events younger than this even when superseded (Kafka's <c>min.compaction.lag.ms</c>). <value>Default: 0.</value></summary>
    public TimeSpan MinCompactionLag { get; init; } = TimeSpan.Zero;

    /// <summary>When the stream was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Storage format version of the stream's segments.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>Throws <see cref="EventLogException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ValidateName(Name, "stream");
        if (Partitions is < 1 or > MaxPartitions)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{Name}': partitions must be between 1 and {MaxPartitions}, not {Partitions}.");
        }

        if (!Enum.IsDefined(Kind))
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{Name}': kind must be 'events' or 'entities'.");
        }

        if (SegmentMaxBytes < 1024)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{Name}': segmentMaxBytes must be at least 1024, not {SegmentMaxBytes}.");
        }

        if (SegmentMaxBlocks is < 1 or > 50_000)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{Name}': segmentMaxBlocks must be between 1 and 50,000 (the append blob limit), not {SegmentMaxBlocks}.");
        }

        if (DeleteRetention < TimeSpan.Zero || MinCompactionLag < TimeSpan.Zero)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{Name}': deleteRetention and minCompactionLag cannot be negative.");
        }

        if (Retention.MaxAge is { } age && age <= TimeSpan.Zero || Retention.MaxBytes is <= 0)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{Name}': retention limits must be positive.");
        }
    }

    /// <summary>Throws <see cref="EventLogErrorReason.InvalidArgument"/> naming the valid range when the partition does not exist.</summary>
    internal void CheckPartition(int partition)
    {
        if (partition < 0 || partition >= Partitions)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{Name}' has partitions 0..{Partitions - 1}; partition {partition} does not exist.");
        }
    }

    /// <summary>Validates a stream or consumer group name; <paramref name="what"/> names it in the error.</summary>
    public static void ValidateName(string? name, string what)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"A {what} name is required.");
        }

        if (!NamePattern().IsMatch(name))
        {
            throw new EventLogException(
                EventLogErrorReason.InvalidArgument,
                $"Invalid {what} name '{name}': use 1-200 characters from a-z, A-Z, 0-9, '.', '_' and '-', starting with a letter or digit.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]
    private static partial Regex NamePattern();
}
