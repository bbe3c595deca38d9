namespace FaasEvents.Log.Producer;

/// <summary>Options for <see cref="EventProducerClient"/>, named after their Kafka counterparts where one exists.</summary>
public sealed class EventProducerOptions
{
    private int maxBatchBytes = 1024 * 1024;
    private TimeSpan linger = TimeSpan.FromMilliseconds(5);
    private int maxPendingEventsPerPartition = 50_000;

    /// <summary>
    /// Most bytes in one batch (one Append Block), like Kafka's <c>batch.size</c>.
    /// <value>Default: 1 MiB; between 4 KiB and 4 MiB.</value>
    /// </summary>
    public int MaxBatchBytes
    {
        get => maxBatchBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 4 * 1024);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, Format.BatchFormat.MaxBatchSize);
            maxBatchBytes = value;
        }
    }

    /// <summary>
    /// How long a partition waits for more events before appending a batch that is not full, like Kafka's
    /// <c>linger.ms</c>. Zero appends as soon as the previous append of that partition finished.
    /// <value>Default: 5 ms; between 0 and 10 s.</value>
    /// </summary>
    public TimeSpan Linger
    {
        get => linger;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromSeconds(10));
            linger = value;
        }
    }

    /// <summary>
    /// Events a partition may hold waiting to be appended; beyond it, later sends wait in the producer's ordered queue
    /// (in call order) until the partition has room for all of a call's events for it (a call larger than this waits
    /// until the partition holds none, then goes in whole). A caller that does not await its sends keeps them in memory.
    /// <value>Default: 50,000.</value>
    /// </summary>
    public int MaxPendingEventsPerPartition
    {
        get => maxPendingEventsPerPartition;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            maxPendingEventsPerPartition = value;
        }
    }

    /// <summary>
    /// Identity written into every batch header; with the per-partition batch sequence it makes retried
    /// appends idempotent. <value>Default: a new GUID per producer.</value>
    /// </summary>
    public Guid? ProducerId { get; set; }

    /// <summary>
    /// How many times an append is tried after a storage failure that is not a conflict (conflicts are
    /// renumbered and retried until they succeed). <value>Default: 5.</value>
    /// </summary>
    public int MaxAppendAttempts { get; set; } = 5;

    /// <summary>
    /// How long the stream's schema (its latest version) is used before the producer looks for a newer one: one blob
    /// listing per interval while it sends. Default 30 s.
    /// </summary>
    public TimeSpan SchemaRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The identity this producer appends as; default: the client's <see cref="EventLogClientOptions.Identity"/>.</summary>
    public string? Identity { get; set; }

    internal EventProducerOptions Clone() => (EventProducerOptions)MemberwiseClone();
}
