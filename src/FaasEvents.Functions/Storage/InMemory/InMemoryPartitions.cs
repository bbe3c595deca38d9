using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;

namespace FaasEvents.Functions.Storage.InMemory;

/// <summary>
/// The shared side of <see cref="InMemoryCheckpointStore"/>: one record per (group, stream, partition) with its lease,
/// checkpoint and materializer state, as the blob store keeps them on a partition's checkpoint blob. Instances under
/// test each get their own <see cref="InMemoryCheckpointStore"/> over one of these, and see each other's leases.
/// </summary>
/// <param name="clock">The clock leases expire by.</param>
/// <param name="queueClock">The clock queue locks and backoffs run on (default: <paramref name="clock"/>).</param>
internal sealed class InMemoryPartitions(TimeProvider clock, TimeProvider? queueClock = null)
{
    public Lock Gate { get; } = new();

    /// <summary>Queue state of queue-consumed groups, shared by every instance like the leases.</summary>
    public InMemoryQueues Queues { get; } = new(queueClock ?? clock);

    /// <summary>The clock leases expire by.</summary>
    public TimeProvider Clock => clock;

    public Dictionary<(string Group, string Stream, int Partition), PartitionRecord> Records { get; } = [];

    /// <summary>The group's checkpoint of a partition (null when none), for tests to look at.</summary>
    public long? CheckpointOf(string group, string stream, int partition)
    {
        lock (Gate)
        {
            return Records.TryGetValue((group, stream, partition), out PartitionRecord? r) ? r.NextOffset : null;
        }
    }

    public PartitionRecord Get(string group, string stream, int partition)
    {
        if (!Records.TryGetValue((group, stream, partition), out PartitionRecord? record))
        {
            Records[(group, stream, partition)] = record = new PartitionRecord();
        }

        return record;
    }

    /// <summary>One partition's lease, checkpoint and state.</summary>
    internal sealed class PartitionRecord
    {
        public string? LeaseId { get; set; }

        public string? Owner { get; set; }

        public DateTimeOffset ExpiresAt { get; set; }

        /// <summary>Set while a handover was asked for: the lease is breaking until then (writes allowed, renewals refused, nobody acquires).</summary>
        public DateTimeOffset? BreakingUntil { get; set; }

        public long? NextOffset { get; set; }

        /// <summary>The resume hint stored with the checkpoint.</summary>
        public LogPosition? Position { get; set; }

        public string? Writers { get; set; }

        public long Generation { get; set; }

        public DateTimeOffset UpdatedAt { get; set; }

        public Dictionary<string, BinaryData> State { get; set; } = new(StringComparer.Ordinal);

        public int StateCommits { get; set; }

        /// <summary>What the function did here, as a checkpoint stores it (<see cref="Checkpoint.Counts"/>).</summary>
        public WorkCounts? Counts { get; private set; }

        /// <summary>Adds what a checkpoint or commit carried.</summary>
        public void Count(WorkCounts? counts)
        {
            if (counts is { IsNone: false })
            {
                Counts = (Counts ?? WorkCounts.None) + counts;
            }
        }

        /// <summary>True while <paramref name="leaseId"/> may write: the current lease, not expired, or breaking but not broken yet.</summary>
        public bool Fences(string leaseId, DateTimeOffset now) =>
            LeaseId == leaseId && now < (BreakingUntil ?? ExpiresAt);

        /// <summary>True while some lease holds the partition (nobody else can acquire it).</summary>
        public bool IsHeld(DateTimeOffset now) => LeaseId is not null && now < (BreakingUntil ?? ExpiresAt);
    }
}
