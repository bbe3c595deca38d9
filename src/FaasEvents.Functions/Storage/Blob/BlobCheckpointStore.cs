using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;

namespace FaasEvents.Functions.Storage.Blob;

/// <summary>Leases, checkpoints and materializer state in the event log's blob container (docs/storage-format.md).</summary>
internal sealed class BlobCheckpointStore : ICheckpointStore
{
    private readonly EventLogClient log;
    private readonly PartitionLeaseClient leases;

    public BlobCheckpointStore(EventLogClient log, string ownerId)
    {
        this.log = log;
        leases = log.CreateLeaseClient(ownerId);
    }

    public string OwnerId => leases.OwnerId;

    public Task<Checkpoint?> GetCheckpointAsync(string group, string stream, int partition, CancellationToken cancellationToken) =>
        log.Checkpoints.GetAsync(group, stream, partition, cancellationToken);

    public Task UpdateCheckpointAsync(PartitionLease lease, long nextOffset, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken) =>
        log.Checkpoints.UpdateAsync(lease.Group, lease.Stream, lease.Partition, nextOffset, position, writers, counts, lease, cancellationToken);

    public Task<PartitionLease?> TryAcquireAsync(string group, string stream, int partition, TimeSpan duration, CancellationToken cancellationToken) =>
        leases.TryAcquireAsync(group, stream, partition, duration, cancellationToken);

    public Task<PartitionLease> RenewAsync(PartitionLease lease, CancellationToken cancellationToken) => leases.RenewAsync(lease, cancellationToken);

    public Task ReleaseAsync(PartitionLease lease, CancellationToken cancellationToken) => leases.ReleaseAsync(lease, cancellationToken);

    public Task RequestHandoverAsync(string group, string stream, int partition, TimeSpan duration, CancellationToken cancellationToken) =>
        leases.RequestHandoverAsync(group, stream, partition, duration, cancellationToken);

    public bool IsHandoverRequest(EventLogException exception) => PartitionLeaseClient.IsHandoverRequest(exception);

    public Task<IReadOnlyList<PartitionOwnership>> ListOwnershipAsync(string group, string stream, CancellationToken cancellationToken) =>
        leases.ListOwnershipAsync(group, stream, cancellationToken);

    public IPartitionState OpenState(string group, string stream, int partition) =>
        new BlobPartitionState(log.CreateStateStore(group, stream, partition));
}
