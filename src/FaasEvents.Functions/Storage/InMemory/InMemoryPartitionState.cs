using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;
using FaasEvents.Log.State;

namespace FaasEvents.Functions.Storage.InMemory;

/// <summary>A materializer's committed table in memory, committed with the checkpoint under the lease (as the blob state store does).</summary>
internal sealed class InMemoryPartitionState(InMemoryPartitions partitions, InMemoryCheckpointStore store, string group, string stream, int partition) : IPartitionState
{
    public Task<RestoredState> RestoreAsync(CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            InMemoryPartitions.PartitionRecord r = partitions.Get(group, stream, partition);
            var table = new Dictionary<string, BinaryData>(r.State, StringComparer.Ordinal);
            return Task.FromResult(new RestoredState(table, r.StateCommits > 0 ? r.NextOffset : null, r.StateCommits > 0 ? 1 : 0));
        }
    }

    public Task CommitAsync(IReadOnlyDictionary<string, BinaryData?> changes, long nextOffset, PartitionLease lease, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            InMemoryPartitions.PartitionRecord r = store.Fenced(lease);
            foreach ((string key, BinaryData? value) in changes)
            {
                if (value is null)
                {
                    r.State.Remove(key);
                }
                else
                {
                    r.State[key] = value;
                }
            }

            Commit(r, nextOffset, position, writers, counts);
            return Task.CompletedTask;
        }
    }

    public Task CommitSnapshotAsync(IReadOnlyDictionary<string, BinaryData> table, long nextOffset, PartitionLease lease, LogPosition? position, string? writers, WorkCounts? counts, CancellationToken cancellationToken)
    {
        lock (partitions.Gate)
        {
            InMemoryPartitions.PartitionRecord r = store.Fenced(lease);
            r.State = new Dictionary<string, BinaryData>(table, StringComparer.Ordinal);
            Commit(r, nextOffset, position, writers, counts);
            return Task.CompletedTask;
        }
    }

    public Task<int> SweepAsync(CancellationToken cancellationToken) => Task.FromResult(0);

    private void Commit(InMemoryPartitions.PartitionRecord r, long nextOffset, LogPosition? position, string? writers, WorkCounts? counts)
    {
        r.Count(counts);
        if (nextOffset >= (r.NextOffset ?? 0))
        {
            r.Position = position;
            r.Writers = writers ?? r.Writers;
        }

        r.NextOffset = Math.Max(nextOffset, r.NextOffset ?? 0);
        r.UpdatedAt = partitions.Clock.GetUtcNow();
        r.StateCommits++;
    }
}
