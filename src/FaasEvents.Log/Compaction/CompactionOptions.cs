namespace FaasEvents.Log.Compaction;

/// <summary>How a compaction treats events (Kafka's cleanup.policy=compact settings); by default the stream's own.</summary>
public sealed record CompactionOptions
{
    /// <summary>A tombstone (an event without data) that is the latest for its key is kept this long, so slow consumers see the delete. <value>Default: 24 h.</value></summary>
    public TimeSpan DeleteRetention { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Events younger than this are kept even when superseded. <value>Default: 0.</value></summary>
    public TimeSpan MinCompactionLag { get; init; } = TimeSpan.Zero;

    /// <summary>Bytes of records per batch in compacted segments. <value>Default: 1 MiB.</value></summary>
    public int TargetBatchBytes { get; init; } = 1024 * 1024;

    /// <summary>Test hook: called after each step of a rewrite (a crash can be simulated by throwing).</summary>
    internal Func<CompactionStep, string, Task>? OnStep { get; init; }
}
