using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;

namespace FaasEvents.Functions.Storage.InMemory;

/// <summary>
/// One instance's view of <see cref="InMemoryPartitions"/>, with the blob store's rules: a lease is exclusive until it
/// expires; a handover request breaks it (renewals refused, writes still fenced in, nobody acquires until the break
/// ends); checkpoints only move forward and only under the current lease; state commits move the checkpoint too.
/// </summary>
internal sealed class InMemoryCheckpointStore(InMemoryPartitions partitions, string ownerId) : ICheckpointStore
{
    private const string HandoverMarker = "handover requested";

    public string OwnerId => ownerId;

    public Task<Checkpoint?> GetCheckpointAsync(string group, string stream, int partition, CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            InMemoryPartitions.PartitionRecord r = partitions.Get(group, stream, partition);
            return Task.FromResult(r.NextOffset is { } next ? new Checkpoint(group, stream, partition, next, r.UpdatedAt, r.Position) { Writers = r.Writers, Generation = r.Generation, Counts = r.Counts } : null);
        }
    }

    public Task UpdateCheckpointAsync(PartitionLease lease, long nextOffset, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            InMemoryPartitions.PartitionRecord r = Fenced(lease);
            if (nextOffset > (r.NextOffset ?? -1))
            {
                r.Count(counts);
                r.NextOffset = nextOffset;
                r.Position = position;
                r.Writers = writers ?? r.Writers;
                r.UpdatedAt = partitions.Clock.GetUtcNow();
            }

            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// An operator's reset (as <see cref="CheckpointStore.ResetAsync"/>): any offset, backwards included; drops the committed
    /// state, the position and the duplicate filter's state, and moves the writer generation on. Refused while leased.
    /// </summary>
    public Task ResetAsync(string group, string stream, int partition, long nextOffset, CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            InMemoryPartitions.PartitionRecord r = partitions.Get(group, stream, partition);
            if (r.IsHeld(partitions.Clock.GetUtcNow()))
            {
                throw new EventLogException(EventLogErrorReason.LeaseLost, $"Checkpoint of group '{group}' on stream '{stream}' partition {partition} not written: The partition is owned by a running consumer; stop it (or wait for its lease to expire) before resetting.");
            }

            r.NextOffset = nextOffset;
            r.Position = null;
            r.Writers = null;
            r.State.Clear();
            r.StateCommits = 0;
            r.Generation++;
            r.UpdatedAt = partitions.Clock.GetUtcNow();
            return Task.CompletedTask;
        }
    }

    public Task<PartitionLease?> TryAcquireAsync(string group, string stream, int partition, TimeSpan duration, CancellationToken cancellationToken)
    {
        if (duration < PartitionLeaseClient.MinDuration || duration > PartitionLeaseClient.MaxDuration)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Lease duration must be between {PartitionLeaseClient.MinDuration.TotalSeconds:0} and {PartitionLeaseClient.MaxDuration.TotalSeconds:0} seconds, not {duration.TotalSeconds:0.###}.");
        }

        lock (partitions.Gate)
        {
            DateTimeOffset now = partitions.Clock.GetUtcNow();
            InMemoryPartitions.PartitionRecord r = partitions.Get(group, stream, partition);
            if (r.IsHeld(now))
            {
                return Task.FromResult<PartitionLease?>(null);
            }

            r.LeaseId = Guid.NewGuid().ToString();
            r.Owner = ownerId;
            r.ExpiresAt = now + duration;
            r.BreakingUntil = null;
            return Task.FromResult<PartitionLease?>(new PartitionLease(group, stream, partition, r.LeaseId, ownerId, duration, now));
        }
    }

    public Task<PartitionLease> RenewAsync(PartitionLease lease, CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            DateTimeOffset now = partitions.Clock.GetUtcNow();
            InMemoryPartitions.PartitionRecord r = partitions.Get(lease.Group, lease.Stream, lease.Partition);
            if (r.LeaseId != lease.LeaseId)
            {
                throw Lost(lease, "taken by another instance");
            }

            if (r.BreakingUntil is not null)
            {
                throw Lost(lease, HandoverMarker);
            }

            r.ExpiresAt = now + lease.Duration;
            return Task.FromResult(lease with { RenewedAt = now });
        }
    }

    public Task ReleaseAsync(PartitionLease lease, CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            InMemoryPartitions.PartitionRecord r = partitions.Get(lease.Group, lease.Stream, lease.Partition);
            if (r.LeaseId == lease.LeaseId)
            {
                r.LeaseId = null;
                r.BreakingUntil = null;
            }

            return Task.CompletedTask;
        }
    }

    public Task RequestHandoverAsync(string group, string stream, int partition, TimeSpan duration, CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            DateTimeOffset now = partitions.Clock.GetUtcNow();
            InMemoryPartitions.PartitionRecord r = partitions.Get(group, stream, partition);
            if (r.IsHeld(now) && r.BreakingUntil is null)
            {
                r.BreakingUntil = r.ExpiresAt < now + duration ? r.ExpiresAt : now + duration; // storage breaks within the lease's remaining time
            }

            return Task.CompletedTask;
        }
    }

    public bool IsHandoverRequest(EventLogException exception) =>
        exception.Reason == EventLogErrorReason.LeaseLost && exception.Message.EndsWith(HandoverMarker + ".", StringComparison.Ordinal);

    public Task<IReadOnlyList<PartitionOwnership>> ListOwnershipAsync(string group, string stream, CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            DateTimeOffset now = partitions.Clock.GetUtcNow();
            IReadOnlyList<PartitionOwnership> list = partitions.Records
                .Where(kv => kv.Key.Group == group && kv.Key.Stream == stream)
                .Select(kv => new PartitionOwnership(kv.Key.Partition, kv.Value.Owner, kv.Value.IsHeld(now) && kv.Value.BreakingUntil is null, kv.Value.NextOffset))
                .OrderBy(o => o.Partition)
                .ToList();
            return Task.FromResult(list);
        }
    }

    public IPartitionState OpenState(string group, string stream, int partition) => new InMemoryPartitionState(partitions, this, group, stream, partition);

    /// <summary>The record <paramref name="lease"/> may write, or <see cref="EventLogErrorReason.LeaseLost"/>.</summary>
    internal InMemoryPartitions.PartitionRecord Fenced(PartitionLease lease)
    {
        InMemoryPartitions.PartitionRecord r = partitions.Get(lease.Group, lease.Stream, lease.Partition);
        return r.Fences(lease.LeaseId, partitions.Clock.GetUtcNow()) ? r : throw Lost(lease, "the lease expired or was taken");
    }

    private static EventLogException Lost(PartitionLease lease, string why) =>
        new(EventLogErrorReason.LeaseLost, $"Lease on group '{lease.Group}' stream '{lease.Stream}' partition {lease.Partition} was lost: {why}.");
}
