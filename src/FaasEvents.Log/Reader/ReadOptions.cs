using FaasEvents.Log.Consumers;

namespace FaasEvents.Log.Reader;

/// <summary>Options for reading a partition.</summary>
public sealed class ReadOptions
{
    /// <summary>Where to start. <value>Default: <see cref="StartPosition.Earliest"/>.</value></summary>
    public StartPosition From { get; set; } = StartPosition.Earliest;

    /// <summary>Keep waiting for new events at the end instead of stopping. <value>Default: false.</value></summary>
    public bool Follow { get; set; }

    /// <summary>How often a following reader looks for new events. <value>Default: 200 ms.</value></summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Longest wait between polls of a following reader that finds nothing: each empty poll doubles the wait, from
    /// <see cref="PollInterval"/> up to this; an event read brings it back to <see cref="PollInterval"/>. An append made
    /// through any client of this process (or announced with <see cref="EventLogClient.AnnounceAppended"/>) wakes the
    /// reader at once whatever the wait. Null never backs off. <value>Default: null.</value>
    /// </summary>
    public TimeSpan? MaxPollInterval { get; set; }

    /// <summary>
    /// When the start offset (or the reader's position) is below the first retained offset: false fails with
    /// <see cref="EventLogErrorReason.OffsetOutOfRange"/>, true starts at the earliest retained event.
    /// <value>Default: false.</value>
    /// </summary>
    public bool StartAtEarliestIfTruncated { get; set; }

    /// <summary>
    /// Deliver each sequenced write once (<see cref="DuplicateFilter"/>): copies of a (writer, sequence) already delivered
    /// are skipped, like a compaction gap. False reads every stored record (audits, compaction, consumers that filter
    /// themselves). <value>Default: true.</value>
    /// </summary>
    public bool Deduplicate { get; set; } = true;

    /// <summary>What the filter knows when the read starts (e.g. restored with a checkpoint); null starts knowing nothing.</summary>
    public DuplicateFilter? Filter { get; set; }

    /// <summary>Stop before this offset (exclusive), if set.</summary>
    public long? EndOffset { get; set; }

    /// <summary>
    /// Where the batch holding <see cref="From"/>'s offset starts, if known (a checkpoint's <see cref="Checkpoint.Position"/>).
    /// Checked with one small read before use; a wrong or stale hint only costs a scan from the segment start.
    /// </summary>
    public LogPosition? PositionHint { get; set; }
}
