using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;

namespace FaasEvents.Functions.Storage;

/// <summary>
/// Where the runtime keeps a consumer group's ownership of partitions and its progress in them: leases, checkpoints
/// (fenced by the lease) and a materializer's state. The blob implementation is <see cref="Blob.BlobCheckpointStore"/>;
/// <see cref="InMemory.InMemoryCheckpointStore"/> runs the balancer and processor without storage.
/// </summary>
internal interface ICheckpointStore
{
    /// <summary>The instance this store acts for (written as a lease's owner).</summary>
    string OwnerId { get; }

    /// <summary>The group's checkpoint of one partition, or null when it has none.</summary>
    Task<Checkpoint?> GetCheckpointAsync(string group, string stream, int partition, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the checkpoint of the leased partition forward, with the duplicate filter's state for it (<paramref name="writers"/>,
    /// null: keep what is stored) and what the function did since its last checkpoint (<paramref name="counts"/>, added to
    /// the stored <see cref="Checkpoint.Counts"/>); <see cref="EventLogErrorReason.LeaseLost"/> when the lease is gone.
    /// </summary>
    Task UpdateCheckpointAsync(PartitionLease lease, long nextOffset, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken);

    /// <summary>Acquires the partition if it is free or its lease expired; null when another instance holds it.</summary>
    Task<PartitionLease?> TryAcquireAsync(string group, string stream, int partition, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Renews a held lease; throws <see cref="EventLogErrorReason.LeaseLost"/> when it was taken or asked for (<see cref="IsHandoverRequest"/>).</summary>
    Task<PartitionLease> RenewAsync(PartitionLease lease, CancellationToken cancellationToken);

    /// <summary>Releases a lease so another instance can take the partition at once; a lost lease is ignored.</summary>
    Task ReleaseAsync(PartitionLease lease, CancellationToken cancellationToken);

    /// <summary>Asks the holder to hand the partition over: nobody can acquire it for <paramref name="duration"/> while the holder finishes.</summary>
    Task RequestHandoverAsync(string group, string stream, int partition, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>True when a failed renewal means "asked to hand over" (the lease still fences writes) rather than "taken".</summary>
    bool IsHandoverRequest(EventLogException exception);

    /// <summary>Owner, lease state and checkpoint of every partition that has a record, in partition order.</summary>
    Task<IReadOnlyList<PartitionOwnership>> ListOwnershipAsync(string group, string stream, CancellationToken cancellationToken);

    /// <summary>The exactly-once state of one partition for a materializer.</summary>
    IPartitionState OpenState(string group, string stream, int partition);
}
