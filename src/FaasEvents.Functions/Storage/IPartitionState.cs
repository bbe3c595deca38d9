using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;
using FaasEvents.Log.State;

namespace FaasEvents.Functions.Storage;

/// <summary>A materializer's committed table of one partition: restored on acquire, committed with its offset under the lease.</summary>
internal interface IPartitionState
{
    /// <summary>The committed table and the offset it reflects.</summary>
    Task<RestoredState> RestoreAsync(CancellationToken cancellationToken);

    /// <summary>Commits the changed keys (null = deleted) together with <paramref name="nextOffset"/> (and the counts, as a checkpoint does).</summary>
    Task CommitAsync(IReadOnlyDictionary<string, BinaryData?> changes, long nextOffset, PartitionLease lease, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken);

    /// <summary>Commits the whole table together with <paramref name="nextOffset"/>.</summary>
    Task CommitSnapshotAsync(IReadOnlyDictionary<string, BinaryData> table, long nextOffset, PartitionLease lease, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken);

    /// <summary>Deletes state superseded by the last snapshot; returns how much was deleted.</summary>
    Task<int> SweepAsync(CancellationToken cancellationToken);
}
