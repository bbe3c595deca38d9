using System.Collections.Concurrent;
using FaasEvents.Functions.Storage;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Queues;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Runs one queue-consumed function in this instance (docs/functions.md, "Queue consumption"): every instance takes
/// events from every partition, each under a lock, up to <see cref="QueueOptions.MaxConcurrentCalls"/> at once. Each
/// round on a partition is one change of its queue state: settle what finished there, acquire as much as there is room
/// for. <see cref="QueueEventHandler"/> handles each event and says how it ends. A partition with nothing available
/// is looked at again when its end moves or when a lock or backoff it holds runs out; an idle instance backs off from
/// pollInterval to maxPollInterval between looks at the partitions' ends (one listing).
/// </summary>
internal sealed class QueueConsumer
{
    private readonly FunctionHost host;
    private readonly IQueueStore store;
    private readonly QueueOptions options;
    private readonly QueueEventHandler handler;
    private readonly ConcurrentQueue<(Lane Lane, QueueSettlement Settlement)> finished = new();
    private readonly CancellationTokenSource cutShort = new();
    private readonly List<Task> running = [];
    private readonly ConcurrentQueue<(Lane Lane, QueueDelivery Delivery, StoredEvent Event)> ready = new(); // acquired, not started
    private volatile bool draining;
    private Lane[] lanes = [];
    private bool startAtEarliest; // the stream was created again under this instance: a "latest" group starts at its start
    private DateTimeOffset? consumingCreatedAt; // the creation time of the stream the lanes belong to, as the ends showed it
    private TaskCompletionSource wake = NewWake();
    private int next;
    private int sticky;
    private long oldestFinished;
    private long averageTicks; // handlers' average duration (moving), for the prefetch

    /// <summary>
    /// How long a finished event's outcome may wait for others to finish too, while the room freed is small: a round per
    /// handler would be a change of the queue state per event, and instances sharing a partition would collide more.
    /// </summary>
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(100);

    /// <summary>Rounds in a row a consumer may stay on the partition it settles on before it takes the next one's turn.</summary>
    private const int StickyRounds = 8;

    public QueueConsumer(FunctionHost host, IQueueStore store)
    {
        this.host = host;
        this.store = store;
        options = host.Options.Queue;
        handler = new QueueEventHandler(host, options, store.Clock, cutShort.Token);
    }

    public FunctionDefinition Function => host.Function;

    /// <summary>The queue store's clock: locks and backoffs are its times.</summary>
    private TimeProvider Clock => store.Clock;

    private int inFlight;

    /// <summary>Events being handled here now.</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    /// <summary>Why the consumer stopped taking events (null while it takes them): outputs its output stream refuses to take.</summary>
    public string? HaltReason => handler.HaltReason;

    /// <summary>The last failure of a round (storage), null after a round that succeeded.</summary>
    public string? LastError { get; private set; }

    /// <summary>Runtime writes that keep failing, by partition.</summary>
    public IEnumerable<(int Partition, PartitionStall Stall)> Stalled =>
        lanes.Select(l => (l.Key.Partition, l.Stall.Current)).Where(x => x.Current is not null).Select(x => (x.Partition, x.Current!));

    /// <summary>The shutdown budget is running out: cancel the handlers still running (their events are released for others).</summary>
    public void CancelInvocations() => cutShort.Cancel();

    /// <summary>
    /// Takes and handles events until <paramref name="stopping"/>; then lets the running handlers finish and settles
    /// them. A failure other than storage's (waited out where it happens) is logged and the loop starts again after a
    /// pause: the function never stops taking events on its own.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        FunctionDefinition fn = host.Function;
        TimeSpan pause = TimeSpan.FromSeconds(1);
        Task stopped = Task.Delay(Timeout.Infinite, stopping); // one per run, not per restart of the loop
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await ConsumeAsync(stopped, stopping);
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested && ex is not OutOfMemoryException)
                {
                    if (ex is EventLogException { Reason: EventLogErrorReason.StreamNotFound or EventLogErrorReason.GroupNotFound } gone)
                    {
                        StartOver(recreated: gone.Reason == EventLogErrorReason.StreamNotFound); // the stream was deleted or created again, or the group's queues deleted
                    }

                    LastError = ex.Message.Split('\n')[0];
                    host.Logger.LogError(ex, "{Function}: consuming {Stream} as a queue failed ({Error}); starting again in {Pause} s", fn.Name, fn.Stream, LastError, pause.TotalSeconds);
                    await Task.Delay(pause, host.Time, stopping);
                    pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            await DrainAsync();
        }
    }

    private async Task ConsumeAsync(Task stopped, CancellationToken stopping)
    {
        FunctionDefinition fn = host.Function;
        if (lanes.Length == 0)
        {
            await StartAsync(stopping);
            host.Logger.LogInformation("{Function}: consuming {Stream} as a queue ({Partitions} partitions, {Options})", fn.Name, fn.Stream, lanes.Length, options);
        }

        TimeSpan idle = host.Options.PollInterval;
        DateTimeOffset refreshedAt = DateTimeOffset.MinValue;
        Task appended = NextAppend(stopped); // taken before the first look at the ends below
        while (!stopping.IsCancellationRequested)
        {
            if (!ReadyForRound(out TimeSpan gatherLeft))
            {
                await WaitAsync(gatherLeft, stopping, evenIfFinished: true);
                continue;
            }

            bool acquired = await RoundAsync(stopping);
            if (acquired)
            {
                idle = host.Options.PollInterval;
                continue;
            }

            DateTimeOffset now = host.Time.GetUtcNow();
            if ((now - refreshedAt >= idle || appended.IsCompleted) && Capacity > 0 && HaltReason is null)
            {
                if (appended.IsCompleted)
                {
                    appended = NextAppend(stopped); // before the look that sees what woke it: a later append wakes it again
                }

                refreshedAt = now;
                if (await RefreshEndsAsync(stopping))
                {
                    idle = host.Options.PollInterval;
                    continue; // a partition's end moved: look at it now
                }

                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, host.Options.MaxPollInterval.Ticks));
            }

            // With every handler slot busy only a handler finishing (it wakes the wait) makes room; otherwise an append
            // announced to this process (its own, or the server's notice) wakes it before the next poll.
            bool room = Capacity > 0 && HaltReason is null;
            await WaitAsync(room ? Until(idle) : host.Options.MaxPollInterval, stopping, appended: room ? appended : null);
        }
    }

    /// <summary>Events to acquire now: room for the handlers plus <see cref="Prefetch"/>, less what is held ready already.</summary>
    private int Capacity => Math.Max(0, options.MaxConcurrentCalls + Prefetch - InFlight - ready.Count);

    /// <summary>
    /// Events held ready beside the running ones, so that one change of a partition's queue serves several: as many as
    /// the handlers can start within a quarter of the lock duration at their average duration so far (none until a
    /// handler has finished), at most max(maxConcurrentCalls, 8). Fast handlers get a full buffer; slow ones none, so an
    /// event never waits here while its lock runs out.
    /// </summary>
    private int Prefetch
    {
        get
        {
            long average = Interlocked.Read(ref averageTicks);
            if (average <= 0)
            {
                return 0;
            }

            double startable = options.MaxConcurrentCalls * (options.LockDuration.Ticks / 4.0) / average;
            return (int)Math.Clamp(startable, 0, Math.Max(options.MaxConcurrentCalls, 8));
        }
    }

    /// <summary>
    /// Starts events held ready while there is room; one whose lock is about to run out is given back unstarted. A round
    /// settles and acquires at once, so it runs when the events held ready run low, or an outcome has waited
    /// <see cref="Gather"/>, or nothing is running.
    /// </summary>
    private bool ReadyForRound(out TimeSpan gatherLeft)
    {
        gatherLeft = TimeSpan.Zero;
        StartReady();
        long since = Interlocked.Read(ref oldestFinished);
        int prefetch = Prefetch;
        if (ready.Count < Math.Max(1, prefetch / 2) && Capacity >= Math.Max(1, (options.MaxConcurrentCalls + prefetch) / 4) && HaltReason is null)
        {
            return true; // running low and room for a worthwhile round: refill (and settle what finished on the way)
        }

        if (since == 0 && ready.Count > 0)
        {
            gatherLeft = host.Options.MaxPollInterval; // nothing to settle, enough ready: until a handler finishes
            return false;
        }

        if (since == 0 || (InFlight == 0 && ready.Count == 0) || HaltReason is not null)
        {
            return true;
        }

        TimeSpan waited = host.Time.GetElapsedTime(since);
        gatherLeft = Gather - waited;
        return gatherLeft <= TimeSpan.Zero;
    }

    private async Task StartAsync(CancellationToken stopping)
    {
        FunctionDefinition fn = host.Function;
        int partitions = await host.Source.GetPartitionCountAsync(fn.Stream, stopping);
        int readAhead = Math.Max(options.MaxConcurrentCalls * 2, 32);
        lanes = Enumerable.Range(0, partitions).Select(p =>
        {
            var metrics = new PartitionMetrics(fn, p, host.Time);
            return new Lane(new QueueKey(fn.ConsumerGroup, fn.Stream, p, options.Window), PartitionWriters.For(fn, p, 0).Outputs, new QueueEventCache(host.Source, fn.Stream, p, readAhead), metrics, new WriteStall(metrics));
        }).ToArray();
        next = host.Random.Next(partitions); // instances start on different partitions
        foreach (Lane lane in lanes)
        {
            lane.Metrics.Start();
        }

        try
        {
            await RefreshEndsAsync(stopping, mustRead: true); // a failure starts again: "latest" is never pinned at an unread end
            if (host.Options.InitialOffset == InitialOffset.Latest)
            {
                // Pin "latest" now (a queue already consumed keeps its state), so what arrives from now on is delivered.
                // After the stream was created again under this instance, its events so far arrived after the group
                // first saw the stream (it was consuming it): they are delivered, from the new stream's start.
                foreach (Lane lane in lanes)
                {
                    long start = startAtEarliest ? lane.Floor : lane.End;
                    await InfrastructureRetry.RunAsync(ct => store.PinStartAsync(lane.Key, start, ct), $"{fn.Name}: pinning the queue start of {fn.Stream} partition {lane.Key.Partition}", host.Logger, host.Time, lane.Stall, stopping);
                }
            }

            startAtEarliest = false;
        }
        catch
        {
            foreach (Lane lane in lanes)
            {
                lane.Metrics.End();
            }

            lanes = []; // started again from the beginning (the partition count, the pins) on the next try
            throw;
        }
    }

    /// <summary>One round: settle what finished, and acquire from the next partition with work for the room there is. True when it acquired.</summary>
    private async Task<bool> RoundAsync(CancellationToken stopping)
    {
        Dictionary<int, List<QueueSettlement>> settle = TakeFinished();
        int room = HaltReason is null ? Capacity : 0;
        Lane? chosen = room > 0 ? Choose(settle) : null;
        bool acquired = false;
        foreach (Lane lane in lanes)
        {
            settle.TryGetValue(lane.Key.Partition, out List<QueueSettlement>? mine);
            if (lane != chosen && mine is null)
            {
                continue;
            }

            int max = lane == chosen ? room : 0;
            acquired |= await ChangeAsync(lane, mine ?? [], max, stopping) > 0;
        }

        return acquired;
    }

    /// <summary>One change of a partition's queue (storage failures waited out); starts handlers for what it acquired. Returns how many.</summary>
    private async Task<int> ChangeAsync(Lane lane, IReadOnlyList<QueueSettlement> settlements, int max, CancellationToken stopping)
    {
        FunctionDefinition fn = host.Function;
        WorkCounts counts = lane.Metrics.Counts;
        var request = new QueueRequest(host.InstanceId, settlements, max, options.LockDuration, lane.End, lane.Floor, counts - lane.Reported);
        QueueUpdate? update = null;
        // Settlements are applied even while stopping (until the shutdown budget runs out); acquiring stops with the instance.
        CancellationToken token = max > 0 ? stopping : cutShort.Token;
        try
        {
            await InfrastructureRetry.RunAsync(async ct => update = await store.SettleAndAcquireAsync(lane.Key, request, ct), $"{fn.Name}: queue round on {fn.Stream} partition {lane.Key.Partition}", host.Logger, host.Time, lane.Stall, token);
            LastError = null;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return 0; // their locks run out and the events are delivered again
        }

        if (update!.Counted)
        {
            lane.Reported = counts;
        }

        foreach (long lost in update.Lost)
        {
            host.Logger.LogWarning("{Function}: the lock on {Stream} partition {Partition} offset {Offset} ran out before its outcome was settled; it is not applied and the event is delivered again", fn.Name, fn.Stream, lane.Key.Partition, lost);
        }

        // Lock expiries and backoffs are the lock clock's (storage's) times.
        DateTimeOffset now = Clock.GetUtcNow();
        DateTimeOffset available = update.NextAvailableAt ?? DateTimeOffset.MaxValue; // a lock or backoff running out, else only when the end moves
        if (max == 0)
        {
            lane.LookAgainAt = available < lane.LookAgainAt ? available : lane.LookAgainAt; // e.g. what it just released
            return 0;
        }

        lane.LookedAt = now;
        lane.LookAgainAt = update.Acquired.Count >= max ? now
            : update.Window ? now + host.Options.PollInterval // others hold the window's start: look again soon
            : available;
        if (update.Acquired.Count == 0)
        {
            return 0;
        }

        IReadOnlyDictionary<long, StoredEvent> events;
        try
        {
            events = await lane.Cache.GetAsync([.. update.Acquired.Select(d => d.Offset)], lane.End, stopping);
        }
        catch (Exception ex) when (InfrastructureRetry.IsInfrastructure(ex) || ex is OperationCanceledException)
        {
            // Acquired but not read: give them back at once rather than waiting for their locks.
            LastError = ex.Message.Split('\n')[0];
            host.Logger.LogWarning("{Function}: reading {Count} acquired event(s) of {Stream} partition {Partition} failed ({Error}); released", fn.Name, update.Acquired.Count, fn.Stream, lane.Key.Partition, LastError);
            foreach (QueueDelivery d in update.Acquired)
            {
                Finish(lane, new QueueSettlement(d.Offset, QueueOutcome.Returned));
            }

            return 0;
        }

        foreach (QueueDelivery d in update.Acquired)
        {
            if (!events.TryGetValue(d.Offset, out StoredEvent? e))
            {
                Finish(lane, new QueueSettlement(d.Offset, QueueOutcome.Accepted)); // no event there any more: nothing to deliver
                continue;
            }

            ready.Enqueue((lane, d, e));
        }

        StartReady();
        return update.Acquired.Count;
    }

    /// <summary>
    /// Starts events held ready while handler slots are free (an event whose lock is about to run out is given back):
    /// from the loop after a round, and from each handler as it finishes, so a freed slot never waits for a round's I/O.
    /// </summary>
    private void StartReady()
    {
        while (!draining)
        {
            int running = Volatile.Read(ref inFlight);
            if (running >= options.MaxConcurrentCalls)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref inFlight, running + 1, running) != running)
            {
                continue; // another thread took or freed a slot: look again
            }

            if (!ready.TryDequeue(out (Lane Lane, QueueDelivery Delivery, StoredEvent Event) r))
            {
                Interlocked.Decrement(ref inFlight);
                return;
            }

            var held = new EventLock(store, r.Lane.Key, host.InstanceId, r.Delivery.Offset, options.LockDuration, Clock, r.Delivery.LockedUntil);
            Lane[] current = lanes;
            if (r.Lane.Key.Partition >= current.Length || !ReferenceEquals(current[r.Lane.Key.Partition], r.Lane))
            {
                Interlocked.Decrement(ref inFlight); // taken from a queue that is gone (the consumer started over): never started
                continue;
            }

            if (held.Expired || HaltReason is not null)
            {
                Interlocked.Decrement(ref inFlight);
                Finish(r.Lane, new QueueSettlement(r.Delivery.Offset, QueueOutcome.Returned));
                continue;
            }

            lock (this.running)
            {
                this.running.Add(Task.Run(() => HandleAsync(r.Lane, r.Delivery, r.Event, held), CancellationToken.None));
            }
        }
    }

    private async Task HandleAsync(Lane lane, QueueDelivery delivery, StoredEvent e, EventLock held)
    {
        try
        {
            long started = host.Time.GetTimestamp();
            QueueSettlement? outcome = await handler.HandleAsync(lane.Key.Partition, lane.OutputWriter, delivery, e, held, lane.Metrics, lane.Stall);
            long took = Math.Max(1, host.Time.GetElapsedTime(started).Ticks);
            long before = Interlocked.Read(ref averageTicks);
            Interlocked.Exchange(ref averageTicks, before <= 0 ? took : before + ((took - before) / 8)); // a race loses one sample: harmless
            if (outcome is not null)
            {
                Finish(lane, outcome);
            }
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
            StartReady();
            wake.TrySetResult();
        }
    }

    /// <summary>An outcome to settle in a coming round (from the handlers' threads and the loop's).</summary>
    private void Finish(Lane lane, QueueSettlement settlement)
    {
        finished.Enqueue((lane, settlement));
        Interlocked.CompareExchange(ref oldestFinished, Math.Max(1, host.Time.GetTimestamp()), 0);
    }

    private Dictionary<int, List<QueueSettlement>> TakeFinished()
    {
        lock (running)
        {
            running.RemoveAll(t => t.IsCompleted);
        }

        Interlocked.Exchange(ref oldestFinished, 0);
        var byPartition = new Dictionary<int, List<QueueSettlement>>();
        while (finished.TryDequeue(out (Lane Lane, QueueSettlement Settlement) f))
        {
            int p = f.Lane.Key.Partition;
            if (p >= lanes.Length || !ReferenceEquals(lanes[p], f.Lane))
            {
                continue; // an outcome from a queue that is gone (its stream was re-created): never applied to the new one
            }

            if (!byPartition.TryGetValue(p, out List<QueueSettlement>? list))
            {
                byPartition[p] = list = [];
            }

            list.Add(f.Settlement);
        }

        return byPartition;
    }

    /// <summary>
    /// Where to acquire: a partition this round settles on anyway (one change does both: half the requests), for up to
    /// <see cref="StickyRounds"/> rounds in a row; else the next partition in turn with work, so every partition is
    /// served.
    /// </summary>
    private Lane? Choose(Dictionary<int, List<QueueSettlement>> settle)
    {
        DateTimeOffset now = Clock.GetUtcNow();
        if (sticky < StickyRounds)
        {
            foreach (int partition in settle.Keys)
            {
                Lane lane = lanes[partition];
                if (HasWork(lane, now))
                {
                    sticky++;
                    return lane;
                }
            }
        }

        sticky = 0;
        return NextWithWork();
    }

    private bool HasWork(Lane lane, DateTimeOffset now) => lane.HasEvents && lane.NextLook(Recheck) <= now;

    /// <summary>
    /// The next partition (round robin) whose queue may have events available now: its end moved, a lock or backoff it
    /// saw ran out, or it has not been looked at for a third of the lock duration (what other instances released is
    /// only seen by looking).
    /// </summary>
    private Lane? NextWithWork()
    {
        DateTimeOffset now = Clock.GetUtcNow();
        for (int i = 0; i < lanes.Length; i++)
        {
            Lane lane = lanes[(next + i) % lanes.Length];
            if (HasWork(lane, now))
            {
                next = (next + i + 1) % lanes.Length;
                return lane;
            }
        }

        return null;
    }

    /// <summary>Reads the partitions' ends (one listing); a partition whose end moved is looked at again now. True when any moved.</summary>
    private async Task<bool> RefreshEndsAsync(CancellationToken stopping, bool mustRead = false)
    {
        IReadOnlyList<PartitionInfo> parts;
        try
        {
            parts = await host.Source.GetPartitionsAsync(host.Function.Stream, stopping);
        }
        catch (Exception ex) when (InfrastructureRetry.IsInfrastructure(ex) && !mustRead)
        {
            LastError = ex.Message.Split('\n')[0];
            host.Logger.LogWarning("{Function}: reading the ends of {Stream} failed ({Error}); trying again", host.Function.Name, host.Function.Stream, LastError);
            return false;
        }

        DateTimeOffset? created = host.Source.StreamCreatedAt(host.Function.Stream);
        if (mustRead)
        {
            consumingCreatedAt = created;
        }
        else if (created is not null && consumingCreatedAt is not null && created != consumingCreatedAt)
        {
            // Deleted and created again between two looks: these lanes and queues belong to the old stream.
            throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{host.Function.Stream}' was created again while {host.Function.Name} consumed it as a queue; starting over on the new stream's queues.");
        }

        bool moved = false;
        foreach (PartitionInfo p in parts.Where(p => p.Partition < lanes.Length))
        {
            Lane lane = lanes[p.Partition];
            lane.Floor = Math.Max(lane.Floor, p.EarliestOffset);
            if (p.EndOffset != lane.End)
            {
                moved = true;
                lane.End = p.EndOffset;
                lane.LookAgainAt = DateTimeOffset.MinValue;
            }
        }

        return moved;
    }

    private TimeSpan Recheck => options.LockDuration / 3;

    /// <summary>How long to wait: the idle interval, or less when a partition's lock or backoff runs out sooner.</summary>
    private TimeSpan Until(TimeSpan idle)
    {
        DateTimeOffset now = Clock.GetUtcNow();
        TimeSpan wait = idle;
        foreach (Lane lane in lanes.Where(l => l.HasEvents))
        {
            TimeSpan untilLook = lane.NextLook(Recheck) - now;
            if (untilLook < wait)
            {
                wait = untilLook;
            }
        }

        return wait;
    }

    /// <summary>For <paramref name="delay"/> (the runtime clock's), until a handler finishes, or the stop.</summary>
    private async Task WaitAsync(TimeSpan delay, CancellationToken stopping, bool evenIfFinished = false, Task? appended = null)
    {
        if (!finished.IsEmpty && !evenIfFinished)
        {
            return;
        }

        Task signal = wake.Task;
        if (delay > TimeSpan.Zero)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            Task timer = Task.Delay(delay, host.Time, cts.Token);
            await (appended is null ? Task.WhenAny(signal, timer) : Task.WhenAny(signal, timer, appended));
            await cts.CancelAsync();
        }

        if (signal.IsCompleted)
        {
            wake = NewWake();
        }
    }

    /// <summary>
    /// Completes at the next append this process learns of on any of the stream's partitions (see
    /// <see cref="Storage.IPartitionSource.NextAppendAsync"/>), or at the stop; never faults. The partitions' tasks are
    /// shared and WhenAny lets go of them when it completes, so arming again and again holds nothing.
    /// </summary>
    private Task NextAppend(Task stopped) =>
        Task.WhenAny([stopped, .. lanes.Select(l => host.Source.NextAppendAsync(host.Function.Stream, l.Key.Partition))]);

    /// <summary>Stopping: no more acquisitions; the running handlers finish (or are cut short) and their outcomes are settled.</summary>
    private async Task DrainAsync()
    {
        draining = true; // nothing held ready starts any more
        Task[] left;
        lock (running)
        {
            left = [.. running];
        }

        await Task.WhenAll(left);
        while (ready.TryDequeue(out (Lane Lane, QueueDelivery Delivery, StoredEvent Event) r))
        {
            Finish(r.Lane, new QueueSettlement(r.Delivery.Offset, QueueOutcome.Returned)); // never started: others take them at once
        }

        foreach ((int partition, List<QueueSettlement> settlements) in TakeFinished())
        {
            await ChangeAsync(lanes[partition], settlements, 0, CancellationToken.None);
        }

        foreach (Lane lane in lanes)
        {
            lane.Metrics.End();
        }
    }

    /// <summary>
    /// Forgets the partitions as they were (count, queues, ends, events held ready), so the next start reads the stream
    /// and its queues as they are now. Handlers still running finish; their outcomes belong to the old queues and are
    /// dropped (<see cref="TakeFinished"/>): the same offset in a new queue is another event.
    /// </summary>
    private void StartOver(bool recreated)
    {
        startAtEarliest |= recreated;
        store.Forget(host.Function.ConsumerGroup, host.Function.Stream); // opened again with the stream as it is now
        while (ready.TryDequeue(out _))
        {
        }

        foreach (Lane lane in lanes)
        {
            lane.Metrics.End();
        }

        lanes = [];
    }

    private static TaskCompletionSource NewWake() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One partition as this consumer sees it.</summary>
    private sealed class Lane(QueueKey key, Guid outputWriter, QueueEventCache cache, PartitionMetrics metrics, WriteStall stall)
    {
        public QueueKey Key => key;

        /// <summary>The partition's output writer id (hashed once, not per event).</summary>
        public Guid OutputWriter => outputWriter;

        public QueueEventCache Cache => cache;

        public PartitionMetrics Metrics => metrics;

        public WriteStall Stall => stall;

        /// <summary>The partition's counts as of the last round that stored them (<see cref="QueueUpdate.Counted"/>).</summary>
        public WorkCounts Reported { get; set; } = metrics.Counts;

        /// <summary>The partition's end as last read.</summary>
        public long End { get; set; }

        /// <summary>Its first retained offset as last read: below it everything counts as settled.</summary>
        public long Floor { get; set; }

        /// <summary>When its queue may have events available again (lock clock).</summary>
        public DateTimeOffset LookAgainAt { get; set; } = DateTimeOffset.MinValue;

        /// <summary>When this consumer last tried to acquire there (lock clock).</summary>
        public DateTimeOffset LookedAt { get; set; } = DateTimeOffset.MinValue;

        /// <summary>The partition holds retained events.</summary>
        public bool HasEvents => End > Floor;

        /// <summary>
        /// When to look at its queue again: when a lock or backoff it saw runs out (or its end moved), and at the latest
        /// <paramref name="recheck"/> after the last look (what other instances released is only seen by looking).
        /// </summary>
        public DateTimeOffset NextLook(TimeSpan recheck) => LookAgainAt < LookedAt + recheck ? LookAgainAt : LookedAt + recheck;
    }
}
