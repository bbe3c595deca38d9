using System.Collections.Concurrent;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Queues;
using FaasEvents.Server.Telemetry;

namespace FaasEvents.Server.Scaling;

/// <summary>
/// Lag of consumer groups for the scaler, with a short cache: end offsets per stream via an
/// <see cref="EndOffsetTracker"/> (one listing, footers only for changed partitions) and checkpoints per group
/// (one listing), each at most once per <see cref="ServerOptions.LagCacheDuration"/> however many ScaledObjects and
/// KEDA calls ask. This server's own appends (ingress, ping sources) show at once: their positions are applied over
/// the cached ends (<see cref="AppendedEnds"/>) and waiters of the stream are woken, with no storage request per append.
/// A stream whose ends stay the same is read less and less often, up to <see cref="ServerOptions.LagIdleCacheMax"/>
/// (<see cref="StreamPace"/>), so a stream at zero instances costs a few listings per idle period, not two a second;
/// a group with lag keeps having its checkpoints read at the normal pace, so its progress (and scale-in) shows at once.
/// </summary>
public sealed class LagService
{
    private readonly EventLogClient log;
    private readonly TimeProvider time;
    private readonly TimeSpan ttl;
    private readonly TimeSpan idleMax;
    private readonly ConcurrentDictionary<string, StreamPace> paces = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> behind = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, EndOffsetTracker> trackers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Cached<EndsRead>> ends = new(StringComparer.Ordinal);
    private readonly AppendedEnds appended = new();
    private readonly ConcurrentDictionary<string, Cached<IReadOnlyList<Checkpoint>>> checkpoints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Cached<IReadOnlyList<QueueState?>>> queueStates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> signals = new(StringComparer.Ordinal);

    /// <summary>Creates the service.</summary>
    public LagService(EventLogClient log, TimeProvider time, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.log = log;
        this.time = time;
        ttl = options.LagCacheDuration;
        idleMax = options.LagIdleCacheMax;
    }

    /// <summary>The group's lag; unknown streams throw <see cref="EventLogErrorReason.StreamNotFound"/>.</summary>
    public Task<LagReport> GetLagAsync(string stream, string group, InitialOffset initialOffset, CancellationToken cancellationToken) =>
        GetLagAsync(stream, group, initialOffset, queue: false, cancellationToken);

    /// <summary>
    /// The group's lag; for a group consuming as a queue (<paramref name="queue"/>) the events not settled per partition,
    /// from its queue states (one read per partition, cached like checkpoints).
    /// </summary>
    public async Task<LagReport> GetLagAsync(string stream, string group, InitialOffset initialOffset, bool queue, CancellationToken cancellationToken)
    {
        StreamPace pace = paces.GetOrAdd(stream, _ => new StreamPace(ttl, idleMax));
        string groupKey = group + "\n" + stream;
        Task<EndsRead> endsTask = Get(ends, stream, () => ReadEndsAsync(stream, pace), pace.Reuse);
        TimeSpan checkpointReuse = behind.GetValueOrDefault(groupKey, true) ? ttl : pace.Reuse; // progress of a group with lag shows at once
        Task<IReadOnlyList<Checkpoint>> cpTask = queue ? Task.FromResult<IReadOnlyList<Checkpoint>>([]) : Get(checkpoints, groupKey, () => log.Checkpoints.ListAsync(group, stream, CancellationToken.None), checkpointReuse);
        Task<IReadOnlyList<QueueState?>> queueTask = queue ? Get(queueStates, groupKey, () => log.GetQueueStatesAsync(group, stream, CancellationToken.None), checkpointReuse) : Task.FromResult<IReadOnlyList<QueueState?>>([]);
        IReadOnlyList<PartitionInfo> parts, stored;
        try
        {
            EndsRead read = await endsTask.WaitAsync(cancellationToken);
            stored = read.Parts;
            parts = appended.Apply(stream, read.Parts, read.Generation);
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.StreamNotFound)
        {
            trackers.TryRemove(stream, out _);
            paces.TryRemove(stream, out _);
            appended.Forget(stream);
            throw;
        }

        Dictionary<int, long> cps = (await cpTask.WaitAsync(cancellationToken)).ToDictionary(c => c.Partition, c => c.NextOffset);
        if (queue)
        {
            IReadOnlyList<QueueState?> states = await queueTask.WaitAsync(cancellationToken);
            if (initialOffset == InitialOffset.Latest && parts.Any(p => p.Partition >= states.Count || states[p.Partition] is null))
            {
                await PinQueuesAsync(stream, group, stored, states, cancellationToken);
                states = await log.GetQueueStatesAsync(group, stream, cancellationToken);
                queueStates[groupKey] = new Cached<IReadOnlyList<QueueState?>>(time.GetUtcNow(), Task.FromResult(states));
            }

            return Report(stream, group, groupKey, parts.Select(p => PartitionLag.ForQueue(p, p.Partition < states.Count ? states[p.Partition] : null, initialOffset)).ToList());
        }

        if (initialOffset == InitialOffset.Latest && parts.Any(p => !cps.ContainsKey(p.Partition)))
        {
            // From storage's ends only: a notice (another process's word) never decides an offset (invariant 13).
            await PinLatestAsync(stream, group, stored, cps, cancellationToken);
        }

        return Report(stream, group, groupKey, parts.Select(p => PartitionLag.Compute(p, cps.TryGetValue(p.Partition, out long c) ? c : null, initialOffset)).ToList());
    }

    private LagReport Report(string stream, string group, string groupKey, List<PartitionLag> rows)
    {
        behind[groupKey] = rows.Any(r => r.Lag > 0);
        foreach (PartitionLag row in rows)
        {
            ServerInstruments.SetLag(stream, group, row.Partition, row.Lag);
        }

        return new LagReport(stream, group, rows);
    }

    /// <summary>A queue group that starts at "latest" starts where each partition ended when the scaler first saw it (as <see cref="PinLatestAsync"/>).</summary>
    private async Task PinQueuesAsync(string stream, string group, IReadOnlyList<PartitionInfo> parts, IReadOnlyList<QueueState?> states, CancellationToken cancellationToken)
    {
        foreach (PartitionInfo p in parts.Where(p => p.Partition >= states.Count || states[p.Partition] is null))
        {
            PartitionQueue q = await log.OpenQueueAsync(group, stream, p.Partition, cancellationToken: cancellationToken);
            await q.PinStartAsync(p.EndOffset, cancellationToken);
        }
    }

    /// <summary>
    /// A group that starts at "latest" starts where the stream ended when it was first seen, by the scaler too: its
    /// start is written as the checkpoint now (never over an existing one), so what arrives later counts as lag and
    /// KEDA wakes the function from zero. Without this no instance ever runs to write it, and the lag stays 0.
    /// </summary>
    private async Task PinLatestAsync(string stream, string group, IReadOnlyList<PartitionInfo> parts, Dictionary<int, long> cps, CancellationToken cancellationToken)
    {
        foreach (PartitionInfo p in parts.Where(p => !cps.ContainsKey(p.Partition)))
        {
            try
            {
                await log.Checkpoints.UpdateAsync(group, stream, p.Partition, p.EndOffset, cancellationToken: cancellationToken);
                cps[p.Partition] = p.EndOffset;
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.LeaseLost)
            {
                // An instance owns the partition already and pins its own start.
            }
        }

        checkpoints.TryRemove(group + "\n" + stream, out _);
    }

    /// <summary>Function instances watching streams for appends: each <see cref="NotifyAppended"/> reaches them.</summary>
    public AppendWatchers Watchers { get; } = new();

    /// <summary>
    /// Called by the ingress and ping sources after an append, and for the append notices other processes post, with the
    /// positions written: lag shows them from now on without a storage request, waiters of the stream wake, and so do
    /// the instances watching it.
    /// </summary>
    public void NotifyAppended(string stream, IEnumerable<EventPosition> positions)
    {
        IReadOnlyList<EventPosition> written = [.. positions];
        appended.Record(stream, written);
        Watchers.Publish(stream, written.Select(p => p.Partition).Distinct().ToList());
        if (paces.TryGetValue(stream, out StreamPace? pace))
        {
            pace.Moved();
        }

        if (signals.TryRemove(stream, out TaskCompletionSource? tcs))
        {
            tcs.TrySetResult();
        }
    }

    /// <summary>
    /// Completes at the next <see cref="NotifyAppended"/> for the stream (or never). Shared by every waiter of the
    /// stream and not cancellable: a waiter that stops waiting must not leave anything attached to it (wait on it with
    /// <see cref="Task.WhenAny(Task, Task)"/>, which detaches, not with <c>WaitAsync</c>, which stays attached until the
    /// signal comes, perhaps never).
    /// </summary>
    public Task NextAppend(string stream) =>
        signals.GetOrAdd(stream, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private async Task<EndsRead> ReadEndsAsync(string stream, StreamPace pace)
    {
        long generation = appended.Current; // taken before the read: appends noted after it may be missing from it
        EndOffsetTracker tracker = trackers.GetOrAdd(stream, s => log.CreateEndOffsetTracker(s));
        IReadOnlyList<PartitionInfo> parts = await tracker.RefreshAsync(CancellationToken.None);
        pace.Observed(parts);
        return new EndsRead(generation, parts);
    }

    private Task<T> Get<T>(ConcurrentDictionary<string, Cached<T>> cache, string key, Func<Task<T>> load, TimeSpan reuse)
    {
        DateTimeOffset now = time.GetUtcNow();
        if (cache.TryGetValue(key, out Cached<T>? hit) && now - hit.At < reuse && !hit.Value.IsFaulted)
        {
            return hit.Value;
        }

        var fresh = new Cached<T>(now, load());
        cache[key] = fresh; // concurrent callers within the TTL share this one task
        return fresh.Value;
    }

    private sealed record Cached<T>(DateTimeOffset At, Task<T> Value);

    private sealed record EndsRead(long Generation, IReadOnlyList<PartitionInfo> Parts);
}
