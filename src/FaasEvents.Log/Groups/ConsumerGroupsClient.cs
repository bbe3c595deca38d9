using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Groups;

/// <summary>
/// Consumer-group administration without deleting blobs by hand: list groups, describe one (checkpoint, lag, owner and
/// lease per partition), reset its checkpoints (earliest, latest, an offset, a time, a shift; dry run first) and
/// delete it. Changing a group while instances hold its partitions is refused unless forced: forcing fences them
/// (their leases are broken and taken, so their next checkpoint fails and they stop), then writes under that lease.
/// Every partition in scope is held before anything is written, so a change applies to all of them or none.
/// </summary>
public sealed class ConsumerGroupsClient
{
    /// <summary>The owner id written on partitions while an admin operation holds them.</summary>
    public const string AdminOwner = "faas-groups-admin";

    private static readonly TimeSpan AdminLease = PartitionLeaseClient.MinDuration;
    private readonly EventLogClient log;
    private readonly LogStore store;

    internal ConsumerGroupsClient(EventLogClient log, LogStore store)
    {
        this.log = log;
        this.store = store;
    }

    /// <summary>Every group with checkpoints or queue state, optionally only those on <paramref name="stream"/>, by stream then group.</summary>
    public async Task<IReadOnlyList<ConsumerGroupInfo>> ListAsync(string? stream = null, CancellationToken cancellationToken = default)
    {
        if (stream is not null)
        {
            StreamDefinition.ValidateName(stream, "stream");
        }

        var found = new Dictionary<(string Group, string Stream), (int Partitions, int Owned, WorkCounts? Counts, bool State)>();
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, StoragePaths.GroupsRoot, cancellationToken))
            {
                string[] parts = item.Name.Split('/');
                if (parts.Length != 4 || !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out _) || (stream is not null && parts[2] != stream))
                {
                    continue;
                }

                (int partitions, int owned, WorkCounts? counts, bool state) = found.GetValueOrDefault((parts[1], parts[2]));
                found[(parts[1], parts[2])] = (
                    partitions + 1,
                    owned + (IsOwned(item.Properties.LeaseState) ? 1 : 0),
                    WorkCounts.Sum([counts, CountsOf(item)]),
                    state || item.Metadata?.ContainsKey(CheckpointStore.StateTipKey) == true);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No container yet: no groups.
        }

        var queues = new Dictionary<(string Group, string Stream), int>();
        foreach (string name in await ListNamesAsync(stream is null ? StoragePaths.QueuesRoot : $"{StoragePaths.QueuesRoot}{stream}/", cancellationToken))
        {
            string[] parts = name.Split('/'); // queues/{stream}/{created}/{group}/{partition}.json
            if (parts.Length == 5)
            {
                queues[(parts[3], parts[1])] = queues.GetValueOrDefault((parts[3], parts[1])) + 1;
            }
        }

        return found.Select(kv => new ConsumerGroupInfo(kv.Key.Group, kv.Key.Stream, kv.Value.Partitions, kv.Value.Owned) { Counts = kv.Value.Counts, HasState = kv.Value.State })
            .Concat(queues.Where(kv => !found.ContainsKey(kv.Key)).Select(kv => new ConsumerGroupInfo(kv.Key.Group, kv.Key.Stream, kv.Value, 0) { Consumption = "queue" }))
            .OrderBy(g => g.Stream, StringComparer.Ordinal).ThenBy(g => g.Group, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Each partition of the group on the stream: checkpoint, when it was written, lag, when the oldest event not handled
    /// yet was appended (one small read per lagging partition), owner and lease. A partition
    /// the group never checkpointed counts from <paramref name="initialOffset"/>. An unknown group fails with
    /// <see cref="EventLogErrorReason.GroupNotFound"/> naming the groups the stream has.
    /// </summary>
    public async Task<IReadOnlyList<GroupPartitionState>> DescribeAsync(string stream, string group, InitialOffset initialOffset = InitialOffset.Earliest, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(group, "consumer group");
        IReadOnlyList<PartitionInfo> partitions = await log.GetPartitionsAsync(stream, cancellationToken); // StreamNotFound first
        Dictionary<int, BlobItem> blobs = await ListCheckpointBlobsAsync(group, stream, cancellationToken);
        if (blobs.Count == 0)
        {
            throw await NotFoundAsync(stream, group, cancellationToken);
        }

        var rows = new List<GroupPartitionState>(partitions.Count);
        foreach (PartitionInfo p in partitions)
        {
            BlobItem? blob = blobs.GetValueOrDefault(p.Partition);
            long? checkpoint = blob is null ? null : CheckpointStore.ParseOffset(blob.Metadata);
            string? owner = blob is not null && blob.Metadata.TryGetValue(CheckpointStore.OwnerKey, out string? o) ? o : null;
            PartitionLag lag = PartitionLag.Compute(p, checkpoint, initialOffset);
            DateTimeOffset? oldest = lag.Lag > 0 ? await FirstTimestampAsync(stream, p, p.EndOffset - lag.Lag, cancellationToken) : null;
            rows.Add(new GroupPartitionState(p.Partition, checkpoint, blob?.Properties.LastModified, p.EarliestOffset, p.EndOffset, lag.Lag, owner, LeaseText(blob?.Properties.LeaseState))
            {
                Counts = blob is null ? null : CountsOf(blob),
                OldestUnhandledAt = oldest,
                LeaseDuration = blob is not null && blob.Metadata.TryGetValue(CheckpointStore.LeaseSecondsKey, out string? s) && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) ? TimeSpan.FromSeconds(seconds) : null,
            });
        }

        return rows;
    }

    /// <summary>
    /// Each partition of a group that consumes <paramref name="stream"/> as a queue: settled offset, unsettled events
    /// (its lag), locks held and by whom, events waiting for a redelivery and their delivery counts, and the age of the
    /// oldest unsettled event (one small read per partition with unsettled events). Null when no partition has queue
    /// state (the group is not a queue group, or nothing consumed it yet).
    /// </summary>
    public async Task<IReadOnlyList<QueuePartitionState>?> DescribeQueueAsync(string stream, string group, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<Queues.QueueState?> queues = await log.GetQueueStatesAsync(group, stream, cancellationToken); // StreamNotFound first
        if (queues.All(q => q is null))
        {
            return null; // a stream group (or none): its partitions are listed by whoever describes it
        }

        IReadOnlyList<PartitionInfo> partitions = await log.GetPartitionsAsync(stream, cancellationToken);

        DateTimeOffset now = store.TimeProvider.GetUtcNow();
        var rows = new List<QueuePartitionState>(partitions.Count);
        foreach (PartitionInfo p in partitions)
        {
            Queues.QueueState? q = queues[p.Partition];
            Queues.QueueState state = q ?? Queues.QueueState.Empty;
            long unsettled = state.Unsettled(p.EndOffset, p.EarliestOffset);
            DateTimeOffset? oldest = null;
            if (unsettled > 0)
            {
                long first = Math.Max(state.SettledBelow, p.EarliestOffset);
                var read = new ReadOptions { From = StartPosition.FromOffset(first), StartAtEarliestIfTruncated = true, EndOffset = p.EndOffset };
                await foreach (StoredEvent e in log.ReadPartitionAsync(stream, p.Partition, read, cancellationToken))
                {
                    if (!state.SettledAbove.Contains(e.Offset))
                    {
                        oldest = e.Timestamp;
                        break;
                    }
                }
            }

            var locked = state.InFlight.Where(f => f.Owner is not null && f.LockedUntil > now).ToList();
            rows.Add(new QueuePartitionState(
                p.Partition,
                p.EndOffset,
                q?.SettledBelow,
                unsettled,
                locked.Count,
                state.InFlight.Count(f => f.Owner is null && f.VisibleAt > now),
                state.InFlight.Count(f => f.Deliveries > 1),
                state.InFlight.Select(f => f.Deliveries).DefaultIfEmpty(0).Max(),
                [.. locked.Select(f => f.Owner!).Distinct().Order(StringComparer.Ordinal)],
                oldest) { Counts = q?.Counts });
        }

        return rows;
    }

    /// <summary>When the event at <paramref name="offset"/> (or the first retained after it) was appended; null when none is there.</summary>
    private async Task<DateTimeOffset?> FirstTimestampAsync(string stream, PartitionInfo p, long offset, CancellationToken cancellationToken)
    {
        var read = new ReadOptions { From = StartPosition.FromOffset(offset), StartAtEarliestIfTruncated = true, EndOffset = p.EndOffset };
        await foreach (StoredEvent e in log.ReadPartitionAsync(stream, p.Partition, read, cancellationToken))
        {
            return e.Timestamp;
        }

        return null;
    }

    private static WorkCounts? CountsOf(BlobItem checkpoint) =>
        checkpoint.Metadata is { } m && m.TryGetValue(CheckpointStore.CountsKey, out string? c) ? WorkCounts.Parse(c) : null;

    /// <summary>
    /// Moves the group's checkpoints to <paramref name="target"/> on every partition (or only <paramref name="partition"/>),
    /// each kept within the partition's retained range. <paramref name="dryRun"/>: only says what would change. While
    /// instances hold partitions in scope the reset is refused (<see cref="EventLogErrorReason.GroupInUse"/>) unless
    /// <paramref name="force"/>, which fences them first. A materializer's committed state goes with a reset (it is
    /// rebuilt from the new offset) and what a replay writes is new to its readers, not taken for copies. A queue group's
    /// settled offsets move instead (events from the target on are delivered again), refused while its instances hold
    /// locks in scope unless forced.
    /// </summary>
    public async Task<IReadOnlyList<PartitionReset>> ResetAsync(string stream, string group, GroupResetTarget target, int? partition = null, bool dryRun = false, bool force = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (await ResetQueueAsync(stream, group, target, partition, dryRun, force, cancellationToken) is { } queuePlan)
        {
            return queuePlan;
        }

        IReadOnlyList<GroupPartitionState> states = await DescribeAsync(stream, group, InitialOffset.Earliest, cancellationToken);
        RefuseOutOfRange(stream, partition, states.Count);

        List<GroupPartitionState> scope = states.Where(s => partition is null || s.Partition == partition).ToList();
        var plan = new List<PartitionReset>(scope.Count);
        foreach (GroupPartitionState s in scope)
        {
            plan.Add(await PlanAsync(stream, s, target, cancellationToken));
        }

        if (dryRun)
        {
            return plan;
        }

        RefuseIfOwned(stream, group, scope, force, "reset");
        PartitionLeaseClient leases = log.CreateLeaseClient(AdminOwner);
        List<PartitionLease> held = await HoldAllAsync(leases, stream, group, plan.Select(p => p.Partition), force, "reset", cancellationToken);
        try
        {
            foreach (PartitionReset step in plan)
            {
                await log.Checkpoints.ResetAsync(group, stream, step.Partition, step.To, held.Single(l => l.Partition == step.Partition), cancellationToken);
            }
        }
        finally
        {
            foreach (PartitionLease lease in held)
            {
                await leases.ReleaseAsync(lease, CancellationToken.None);
            }
        }

        return plan;
    }

    /// <summary>
    /// Deletes the group's checkpoints (and filter state) on the stream and a materializer's committed state; a group
    /// that runs again starts at its initial offset. Refused while instances hold its partitions unless
    /// <paramref name="force"/>, which fences them first. Returns the number of blobs deleted.
    /// </summary>
    public async Task<int> DeleteAsync(string stream, string group, bool force = false, CancellationToken cancellationToken = default)
    {
        if (await DeleteQueueAsync(stream, group, force, cancellationToken) is { } queueBlobs)
        {
            return queueBlobs;
        }

        IReadOnlyList<GroupPartitionState> states = await DescribeAsync(stream, group, InitialOffset.Earliest, cancellationToken);
        RefuseIfOwned(stream, group, states, force, "delete");
        PartitionLeaseClient leases = log.CreateLeaseClient(AdminOwner);

        // Hold every partition first: an instance that claimed one since the check keeps everything (nothing is deleted
        // under a live owner: its committed state would go while its checkpoint stays).
        List<PartitionLease> held = await HoldAllAsync(leases, stream, group, (await ListCheckpointBlobsAsync(group, stream, cancellationToken)).Keys, force, "delete", cancellationToken);

        int deleted = 0;
        foreach (string name in await ListNamesAsync($"state/{group}/{stream}/", cancellationToken))
        {
            deleted += await DeleteBlobAsync(store.Container.GetBlobClient(name), null, cancellationToken);
        }

        foreach (string name in (await ListNamesAsync(StoragePaths.GroupStreamPrefix(group, stream), cancellationToken)).Where(n => n.Contains(".writers/", StringComparison.Ordinal)))
        {
            deleted += await DeleteBlobAsync(store.Container.GetBlobClient(name), null, cancellationToken);
        }

        foreach (PartitionLease lease in held)
        {
            deleted += await DeleteBlobAsync(store.CheckpointBlob(group, stream, lease.Partition), lease.LeaseId, cancellationToken);
        }

        return deleted;
    }

    /// <summary>
    /// Deletes a queue group's state (every partition's queue blob), so it consumes the stream again from its start;
    /// refused while instances hold locks unless <paramref name="force"/> (their settlements are then refused and the
    /// events delivered again). Null when the group has no queue state.
    /// </summary>
    private async Task<int?> DeleteQueueAsync(string stream, string group, bool force, CancellationToken cancellationToken)
    {
        if (await ReadQueueGroupAsync(stream, group, cancellationToken) is not var (def, queues))
        {
            return null;
        }

        RefuseIfLocked(stream, group, queues, Enumerable.Range(0, queues.Count), force, "delete");

        int deleted = 0;
        for (int p = 0; p < def.Partitions; p++)
        {
            if (queues[p] is not null)
            {
                deleted += await DeleteBlobAsync(store.Container.GetBlobClient(StoragePaths.Queue(stream, def.CreatedAt, group, p)), null, cancellationToken);
            }
        }

        return deleted;
    }

    /// <summary>
    /// A queue group's reset: each partition's queue in scope starts over at the target (the settled offset moves there,
    /// forwards or back; <c>PartitionQueue.ResetAsync</c>). Refused while instances hold locks in scope unless
    /// <paramref name="force"/>. Null when the group has no queue state (a stream group).
    /// </summary>
    private async Task<IReadOnlyList<PartitionReset>?> ResetQueueAsync(string stream, string group, GroupResetTarget target, int? partition, bool dryRun, bool force, CancellationToken cancellationToken)
    {
        if (await ReadQueueGroupAsync(stream, group, cancellationToken) is not var (_, queues))
        {
            return null;
        }

        IReadOnlyList<PartitionInfo> partitions = await log.GetPartitionsAsync(stream, cancellationToken);
        RefuseOutOfRange(stream, partition, partitions.Count);

        var plan = new List<PartitionReset>();
        foreach (PartitionInfo p in partitions.Where(p => partition is null || p.Partition == partition))
        {
            Queues.QueueState? q = p.Partition < queues.Count ? queues[p.Partition] : null;
            long unsettled = (q ?? Queues.QueueState.Empty).Unsettled(p.EndOffset, p.EarliestOffset);
            plan.Add(await PlanAsync(stream, new GroupPartitionState(p.Partition, q?.SettledBelow, null, p.EarliestOffset, p.EndOffset, unsettled, null, "none"), target, cancellationToken));
        }

        if (dryRun)
        {
            return plan;
        }

        RefuseIfLocked(stream, group, queues, plan.Select(s => s.Partition), force, "reset");
        var done = new List<int>();
        foreach (PartitionReset step in plan)
        {
            Queues.PartitionQueue queue = await log.OpenQueueAsync(group, stream, step.Partition, cancellationToken: cancellationToken);
            try
            {
                await queue.ResetAsync(step.To, force, cancellationToken); // checks the locks again: one taken since is not dropped unforced
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.GroupInUse && done.Count > 0)
            {
                // An instance took a lock after the check: no lease fences a queue, so say what did move.
                throw new EventLogException(EventLogErrorReason.GroupInUse, $"{ex.Message} Partition(s) {string.Join(", ", done)} were reset already; run the reset again once the instances are stopped, or with --force.", ex);
            }

            done.Add(step.Partition);
        }

        return plan;
    }

    /// <summary>The group's queue states on the stream (one per partition, null where none), or null for a group without any (a stream group).</summary>
    private async Task<(StreamDefinition Definition, IReadOnlyList<Queues.QueueState?> Queues)?> ReadQueueGroupAsync(string stream, string group, CancellationToken cancellationToken)
    {
        StreamDefinition.ValidateName(group, "consumer group");
        StreamDefinition def = await log.GetStreamAsync(stream, cancellationToken);
        IReadOnlyList<Queues.QueueState?> queues = await log.GetQueueStatesAsync(def, group, cancellationToken);
        return queues.All(q => q is null) ? null : (def, queues);
    }

    private static void RefuseOutOfRange(string stream, int? partition, int partitions)
    {
        if (partition is { } only && (only < 0 || only >= partitions))
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"--partition {only}: stream '{stream}' has partitions 0-{partitions - 1}.");
        }
    }

    private void RefuseIfLocked(string stream, string group, IReadOnlyList<Queues.QueueState?> queues, IEnumerable<int> scope, bool force, string what)
    {
        DateTimeOffset now = store.TimeProvider.GetUtcNow();
        var locked = scope.Select(p => (Partition: p, Owners: Queues.PartitionQueue.LockHolders(p < queues.Count ? queues[p] : null, now))).Where(x => x.Owners.Count > 0).ToList();
        if (locked.Count > 0 && !force)
        {
            throw new EventLogException(EventLogErrorReason.GroupInUse, $"Queue group '{group}' on '{stream}' has events locked by running instances ({string.Join("; ", locked.Select(l => $"partition {l.Partition}: {string.Join(", ", l.Owners)}"))}); stop them (scale to zero) first, or {what} with --force (their outcomes are then refused and the events delivered again).");
        }
    }

    private async Task<PartitionReset> PlanAsync(string stream, GroupPartitionState s, GroupResetTarget target, CancellationToken cancellationToken)
    {
        long current = s.Checkpoint ?? s.EarliestOffset;
        long wanted = target.Kind switch
        {
            GroupResetKind.Earliest => s.EarliestOffset,
            GroupResetKind.Latest => s.EndOffset,
            GroupResetKind.Offset => target.Value,
            GroupResetKind.Shift => current + target.Value,
            _ => await FirstAtOrAfterAsync(stream, s, target.Time, cancellationToken),
        };
        long to = Math.Clamp(wanted, s.EarliestOffset, s.EndOffset);
        string? note = to == wanted ? null
            : wanted < s.EarliestOffset ? $"{wanted} is below the oldest retained offset {s.EarliestOffset}: moved there"
            : $"{wanted} is past the end {s.EndOffset}: moved there";
        return new PartitionReset(s.Partition, s.Checkpoint, to, s.Lag, s.EndOffset - to, note);
    }

    private async Task<long> FirstAtOrAfterAsync(string stream, GroupPartitionState s, DateTimeOffset time, CancellationToken cancellationToken)
    {
        await foreach (StoredEvent e in log.ReadPartitionAsync(stream, s.Partition, new ReadOptions { From = StartPosition.FromTime(time) }, cancellationToken))
        {
            return e.Offset;
        }

        return s.EndOffset; // nothing written at or after it
    }

    private static void RefuseIfOwned(string stream, string group, IEnumerable<GroupPartitionState> scope, bool force, string what)
    {
        List<GroupPartitionState> owned = scope.Where(s => s.IsOwned).ToList();
        if (owned.Count > 0 && !force)
        {
            throw new EventLogException(
                EventLogErrorReason.GroupInUse,
                $"Cannot {what} group '{group}' on '{stream}': instances hold partition(s) {string.Join(", ", owned.Select(s => s.Partition))} ({string.Join(", ", owned.Select(s => s.Owner ?? "?").Distinct())}). Stop the function (scale it to zero) and wait for its leases to lapse, or pass --force to fence them: they stop at their next checkpoint.");
        }
    }

    /// <summary>
    /// Takes the leases of all <paramref name="partitions"/> before anything is changed, so a change applies to all of
    /// them or to none; when one cannot be taken, those already taken are released and the operation is refused.
    /// </summary>
    private async Task<List<PartitionLease>> HoldAllAsync(PartitionLeaseClient leases, string stream, string group, IEnumerable<int> partitions, bool force, string what, CancellationToken cancellationToken)
    {
        var held = new List<PartitionLease>();
        try
        {
            foreach (int p in partitions)
            {
                held.Add(await HoldAsync(leases, stream, group, p, force, what, cancellationToken));
            }

            return held;
        }
        catch
        {
            foreach (PartitionLease lease in held)
            {
                await leases.ReleaseAsync(lease, CancellationToken.None);
            }

            throw;
        }
    }

    /// <summary>Takes the partition's lease for an admin write: acquired if free, broken and taken when forced.</summary>
    private async Task<PartitionLease> HoldAsync(PartitionLeaseClient leases, string stream, string group, int partition, bool force, string what, CancellationToken cancellationToken)
    {
        PartitionLease? lease = force
            ? await leases.TryStealAsync(group, stream, partition, AdminLease, cancellationToken)
            : await leases.TryAcquireAsync(group, stream, partition, AdminLease, cancellationToken);
        return lease ?? throw new EventLogException(
            EventLogErrorReason.GroupInUse,
            $"Cannot {what} group '{group}' on '{stream}': an instance claimed partition {partition} meanwhile. Stop the function first, or pass --force to fence it.");
    }

    private async Task<Dictionary<int, BlobItem>> ListCheckpointBlobsAsync(string group, string stream, CancellationToken cancellationToken)
    {
        var blobs = new Dictionary<int, BlobItem>();
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, StoragePaths.GroupStreamPrefix(group, stream), cancellationToken))
            {
                if (int.TryParse(item.Name[(item.Name.LastIndexOf('/') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int p))
                {
                    blobs[p] = item;
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return blobs;
    }

    private async Task<List<string>> ListNamesAsync(string prefix, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
            {
                names.Add(item.Name);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return names;
    }

    private static async Task<int> DeleteBlobAsync(BlobClient blob, string? leaseId, CancellationToken cancellationToken)
    {
        try
        {
            await blob.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { LeaseId = leaseId }, cancellationToken);
            return 1;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }
    }

    private async Task<EventLogException> NotFoundAsync(string stream, string group, CancellationToken cancellationToken)
    {
        List<string> groups = (await ListAsync(stream, cancellationToken)).Select(g => g.Group).ToList();
        return new EventLogException(
            EventLogErrorReason.GroupNotFound,
            $"Consumer group '{group}' has no checkpoints on stream '{stream}' ({(groups.Count == 0 ? "the stream has no groups yet" : "its groups: " + string.Join(", ", groups))}). Check the name; a group appears once a function of it claims a partition.");
    }

    private static bool IsOwned(LeaseState? state) => state == LeaseState.Leased || state == LeaseState.Breaking;

    private static string LeaseText(LeaseState? state) =>
        state is null ? "none" : state == LeaseState.Leased ? "leased" : state == LeaseState.Breaking ? "breaking" : state == LeaseState.Broken ? "broken" : state == LeaseState.Expired ? "expired" : "available";
}
