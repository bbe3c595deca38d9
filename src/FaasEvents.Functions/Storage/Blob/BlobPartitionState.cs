using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;
using FaasEvents.Log.State;

namespace FaasEvents.Functions.Storage.Blob;

/// <summary>A materializer's state as a chain of snapshot and delta blobs committed with the checkpoint (<see cref="PartitionStateStore"/>).</summary>
internal sealed class BlobPartitionState(PartitionStateStore store) : IPartitionState
{
    public Task<RestoredState> RestoreAsync(CancellationToken cancellationToken) => store.RestoreAsync(cancellationToken);

    public Task CommitAsync(IReadOnlyDictionary<string, BinaryData?> changes, long nextOffset, PartitionLease lease, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken) =>
        store.CommitAsync(changes, nextOffset, lease, position, writers, counts, cancellationToken);

    public Task CommitSnapshotAsync(IReadOnlyDictionary<string, BinaryData> table, long nextOffset, PartitionLease lease, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken) =>
        store.CommitSnapshotAsync(table, nextOffset, lease, position, writers, counts, cancellationToken);

    public Task<int> SweepAsync(CancellationToken cancellationToken) => store.SweepAsync(cancellationToken);
}
