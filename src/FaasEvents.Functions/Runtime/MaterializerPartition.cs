using System.Globalization;
using FaasEvents.Functions.Storage;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.State;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// A materializer's table on one owned partition and how it is persisted: restored from the committed chain on
/// acquire; each commit writes the changed keys as a delta (cost grows with the changes, not the table) or, once the
/// deltas since the last full snapshot outweigh the table (or the chain grows long), a full snapshot that
/// consolidates the chain, after which older state blobs are swept. Optionally publishes the committed changes to
/// the changelog stream first, so a crash republishes (idempotently, latest value per key) rather than loses them.
/// </summary>
internal sealed class MaterializerPartition
{
    /// <summary>Deltas after which a full snapshot is written regardless of size, bounding restore requests.</summary>
    internal const int MaxChainLength = 64;

    private readonly FunctionHost host;
    private readonly IPartitionState store;
    private long deltaEntriesSinceFull;
    private int deltasSinceFull;

    public MaterializerPartition(FunctionHost host, int partition, MaterializedTable table)
    {
        this.host = host;
        Partition = partition;
        Table = table;
        store = host.Checkpoints.OpenState(host.Function.ConsumerGroup, host.Function.Stream, partition);
    }

    public int Partition { get; }

    public MaterializedTable Table { get; }

    /// <summary>Loads the committed table; returns the offset it reflects (null when nothing was committed).</summary>
    public async Task<long?> RestoreAsync(CancellationToken cancellationToken)
    {
        RestoredState restored = await store.RestoreAsync(cancellationToken);
        Table.Load(restored.Table);
        deltasSinceFull = Math.Max(0, restored.ChainLength - 1);
        deltaEntriesSinceFull = deltasSinceFull == 0 ? 0 : restored.Table.Count; // unknown: assume the worst so a snapshot comes soon
        host.Logger.LogInformation("{Function}: restored {Keys} key(s) of partition {Partition} at offset {Offset} from {Blobs} state blob(s)", host.Function.Name, restored.Table.Count, Partition, restored.NextOffset, restored.ChainLength);
        return restored.NextOffset;
    }

    /// <summary>
    /// Commits the changes since the last commit together with <paramref name="nextOffset"/> and the duplicate filter's
    /// state (<paramref name="writers"/>) and what the function did since the last commit (<paramref name="counts"/>); on failure they stay pending. The changelog records go first, sequenced by the
    /// offset of each key's last change under <paramref name="changelogWriter"/>, so a paused owner's late append is a
    /// copy readers skip once its successor committed newer changes.
    /// </summary>
    public async Task CommitAsync(long nextOffset, LogPosition? position, string? writers, WorkCounts? counts, Guid changelogWriter, PartitionLease lease, CancellationToken cancellationToken)
    {
        (Dictionary<string, BinaryData?> changes, Dictionary<string, long> offsets) = Table.TakeChanges();
        try
        {
            if (host.Function.ChangelogStream is { } changelog && changes.Count > 0)
            {
                List<KeyValuePair<string, long>> order = [.. offsets.OrderBy(kv => kv.Value)];
                await host.Outputs.AppendAsync(
                    null,
                    changelog,
                    ChangelogEvents(order, changes, nextOffset),
                    order.Select(kv => new WriterMark(changelogWriter, WriterIdentity.Sequence(kv.Value, 0))).ToList(),
                    cancellationToken);
            }

            int count = Table.Count;
            if (deltasSinceFull >= MaxChainLength || (count > 0 && deltaEntriesSinceFull + changes.Count > count))
            {
                await store.CommitSnapshotAsync(Table.SerializeAll(), nextOffset, lease, position, writers, counts, cancellationToken);
                deltaEntriesSinceFull = 0;
                deltasSinceFull = 0;
                _ = SweepAsync();
            }
            else
            {
                await store.CommitAsync(changes, nextOffset, lease, position, writers, counts, cancellationToken);
                deltaEntriesSinceFull += changes.Count;
                deltasSinceFull++;
            }
        }
        catch
        {
            Table.Untake(offsets);
            throw;
        }
    }

    private async Task SweepAsync()
    {
        try
        {
            int deleted = await store.SweepAsync(CancellationToken.None);
            if (deleted > 0)
            {
                host.Logger.LogDebug("{Function}: swept {Count} superseded state blob(s) of partition {Partition}", host.Function.Name, deleted, Partition);
            }
        }
        catch (Exception ex)
        {
            host.Logger.LogWarning(ex, "{Function}: sweeping old state blobs of partition {Partition} failed; the next snapshot retries", host.Function.Name, Partition);
        }
    }

    private List<LogEvent> ChangelogEvents(List<KeyValuePair<string, long>> order, Dictionary<string, BinaryData?> changes, long nextOffset)
    {
        DateTimeOffset now = host.Time.GetUtcNow();
        string source = $"/faas/materializers/{host.Function.Name}";
        string at = nextOffset.ToString(CultureInfo.InvariantCulture);
        return order.Select(o => KeyValuePair.Create(o.Key, changes[o.Key])).Select(kv => new LogEvent(
            // Deterministic: a commit retried after a crash republishes the same ids.
            $"{host.Function.ConsumerGroup}/{Partition}/{at}/{kv.Key}",
            source,
            kv.Value is null ? $"{host.Function.Name}.deleted" : $"{host.Function.Name}.changed")
        {
            PartitionKey = kv.Key,
            Subject = kv.Key,
            Time = now,
            DataContentType = kv.Value is null ? null : "application/json",
            Data = kv.Value,
        }).ToList();
    }
}
