using FaasEvents.Functions.Telemetry;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Keeps one function's share of partitions: every <see cref="EventLogHostOptions.LoadBalancingInterval"/> it renews
/// owned leases, then claims free partitions and asks owners above their fair share to hand one over
/// (<see cref="BalancePlan"/>). Each owned partition runs a <see cref="PartitionProcessor"/>. A partition whose lease
/// renewal fails because it was asked for (or lost) is handed over without overlap: it ends after its in-flight
/// invocation, checkpoints under its still-valid lease and releases it; only then can the asker acquire it.
/// </summary>
internal sealed class PartitionBalancer
{
    private readonly FunctionHost host;
    private readonly Dictionary<int, PartitionProcessor> processors = [];
    private readonly Lock gate = new();
    private readonly HashSet<int> reported = [];
    private readonly Dictionary<int, DateTimeOffset> handedOver = [];
    private readonly List<(PartitionProcessor Processor, Task Released)> handovers = [];
    private int partitions;

    /// <summary>How soon a starting instance that owns nothing looks again (see <see cref="NextCycleIn"/>).</summary>
    private static readonly TimeSpan StartupRetry = TimeSpan.FromMilliseconds(500);

    public PartitionBalancer(FunctionHost host)
    {
        this.host = host;
    }

    public FunctionDefinition Function => host.Function;

    /// <summary>Partitions owned now.</summary>
    public IReadOnlyList<int> Owned
    {
        get
        {
            lock (gate)
            {
                return processors.Keys.Order().ToList();
            }
        }
    }

    private const int FailingAfterStarts = 2;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (int Starts, string? Error)> failingStarts = new();

    /// <summary>Halted partitions (the stop policy, or a dead letter that can never be written) with the reason.</summary>
    public IReadOnlyList<(int Partition, string Reason)> Halted
    {
        get
        {
            lock (gate)
            {
                return processors.Values.Where(p => p.Halted).Select(p => (p.Partition, p.HaltReason!)).OrderBy(h => h.Partition).ToList();
            }
        }
    }

    /// <summary>Owned partitions whose runtime write (outputs, checkpoint, dead letter) keeps failing.</summary>
    public IReadOnlyList<(int Partition, PartitionStall Stall)> Stalled
    {
        get
        {
            lock (gate)
            {
                return processors.Values.Select(p => (p.Partition, p.Stall)).Where(s => s.Stall is not null).Select(s => (s.Partition, s.Stall!)).OrderBy(s => s.Partition).ToList();
            }
        }
    }

    /// <summary>
    /// Owned partitions whose processor failed at its last <see cref="FailingAfterStarts"/> or more starts without handling
    /// anything (e.g. a corrupt segment), with the error: restarting them cannot help, someone must look.
    /// </summary>
    public IReadOnlyList<(int Partition, int Starts, string? Error)> Failing
    {
        get
        {
            IReadOnlyList<int> owned = Owned;
            return failingStarts.Where(kv => kv.Value.Starts >= FailingAfterStarts && owned.Contains(kv.Key)).Select(kv => (kv.Key, kv.Value.Starts, kv.Value.Error)).OrderBy(f => f.Key).ToList();
        }
    }

    /// <summary>The last balancing error, if the last cycle failed.</summary>
    public string? LastError { get; private set; }

    public async Task RunAsync(CancellationToken stopping)
    {
        DateTimeOffset started = host.Time.GetUtcNow();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await CycleAsync(stopping);
                LastError = null;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LastError = ex.Message;
                host.Logger.LogError(ex, "{Function}: load-balancing cycle failed; retrying in {Interval}", host.Function.Name, host.Options.LoadBalancingInterval);
            }

            try
            {
                await Task.Delay(NextCycleIn(started), host.Time, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// The wait before the next cycle: <see cref="EventLogHostOptions.LoadBalancingInterval"/>, except while a starting
    /// instance owns nothing yet (for at most one lease duration): then <see cref="StartupRetry"/>, so partitions a
    /// stopping instance releases (KEDA scaling 1 -> 0 -> 1, a rolling update) are claimed within half a second of their
    /// release instead of a whole interval later.
    /// </summary>
    private TimeSpan NextCycleIn(DateTimeOffset started)
    {
        TimeSpan interval = host.Options.LoadBalancingInterval;
        bool starting = host.Time.GetUtcNow() - started < host.Options.LeaseDuration;
        return starting && partitions > 0 && Owned.Count == 0 && StartupRetry < interval ? StartupRetry : interval;
    }

    /// <summary>
    /// Graceful stop: each partition ends after its in-flight invocation (cancelled once <paramref name="hurry"/>
    /// fires), checkpoints what it handled, and every lease is released.
    /// </summary>
    public async Task StopAsync(CancellationToken hurry)
    {
        List<PartitionProcessor> all;
        lock (gate)
        {
            all = [.. processors.Values];
        }

        foreach (PartitionProcessor p in all)
        {
            p.Stop();
        }

        List<(PartitionProcessor Processor, Task Released)> pending;
        lock (gate)
        {
            pending = [.. handovers];
        }

        using (hurry.Register(() => all.Concat(pending.Select(h => h.Processor)).ToList().ForEach(p => p.CancelInvocations())))
        {
            await Task.WhenAll(all.Select(p => p.Completion).Concat(pending.Select(h => h.Released)));
        }

        await Task.WhenAll(all.Select(async p =>
        {
            try
            {
                await host.Checkpoints.ReleaseAsync(p.Lease, CancellationToken.None);
            }
            catch (Exception ex)
            {
                host.Logger.LogWarning(ex, "{Function}: releasing partition {Partition} failed; it frees itself when the lease expires", host.Function.Name, p.Partition);
            }
        }));
        lock (gate)
        {
            processors.Clear();
        }

        host.Logger.LogInformation("{Function}: stopped; checkpointed and released partitions [{Partitions}]", host.Function.Name, string.Join(",", all.Select(p => p.Partition).Order()));
    }

    /// <summary>
    /// One balancing cycle: renew (or hand over, or drop) owned partitions, restart ended processors, claim free
    /// partitions and ask owners above their share for one, then report lag. <see cref="RunAsync"/> runs it every
    /// <see cref="EventLogHostOptions.LoadBalancingInterval"/>; tests call it directly.
    /// </summary>
    internal async Task CycleAsync(CancellationToken cancellationToken)
    {
        FunctionDefinition fn = host.Function;
        if (partitions == 0)
        {
            partitions = await host.Source.GetPartitionCountAsync(fn.Stream, cancellationToken);
        }

        List<PartitionProcessor> current;
        lock (gate)
        {
            current = [.. processors.Values];
        }

        foreach (PartitionProcessor p in current)
        {
            try
            {
                p.Lease = await host.Checkpoints.RenewAsync(p.Lease, cancellationToken);
                if (p.Completion.IsCompleted && !p.Halted)
                {
                    bool failedWithoutProgress = p.Failure is not null && p.NextOffset < 0;
                    failingStarts.AddOrUpdate(p.Partition, _ => (failedWithoutProgress ? 1 : 0, p.Failure), (_, f) => (failedWithoutProgress ? f.Starts + 1 : 0, p.Failure));
                    host.Logger.LogInformation("{Function}: restarting partition {Partition}", fn.Name, p.Partition);
                    Replace(p.Partition, PartitionProcessor.Start(host, p.Lease));
                }
                else if (p.NextOffset >= 0)
                {
                    failingStarts.TryRemove(p.Partition, out _); // handling events again
                }
            }
            catch (EventLogException ex) when (host.Checkpoints.IsHandoverRequest(ex))
            {
                host.Logger.LogInformation("{Function}: another instance asked for partition {Partition} of {Stream}; handing it over after the in-flight invocation", fn.Name, p.Partition, fn.Stream);
                HandOver(p);
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.LeaseLost)
            {
                // Taken, not asked for (or its checkpoint blob deleted): another instance may be invoking already.
                host.Logger.LogWarning("{Function}: partition {Partition} of {Stream} was taken by another instance; stopping it at once", fn.Name, p.Partition, fn.Stream);
                Drop(p);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // One partition's renewal failing (timeout, 5xx) must not cost the others theirs: go on with the next.
                if (host.LeaseClock.GetUtcNow() >= p.Lease.ExpiresAt)
                {
                    host.Logger.LogWarning(ex, "{Function}: lease on partition {Partition} of {Stream} expired without a successful renewal; stopping it", fn.Name, p.Partition, fn.Stream);
                    Drop(p);
                }
                else
                {
                    host.Logger.LogWarning(ex, "{Function}: renewing the lease on partition {Partition} of {Stream} failed; retrying next cycle (it expires at {Expiry:O})", fn.Name, p.Partition, fn.Stream, p.Lease.ExpiresAt);
                }
            }
        }

        IReadOnlyList<PartitionOwnership> ownership = await host.Checkpoints.ListOwnershipAsync(fn.ConsumerGroup, fn.Stream, cancellationToken);
        HashSet<int> mine;
        lock (gate)
        {
            mine = [.. processors.Keys];
        }

        (IReadOnlyList<int> claim, IReadOnlyList<int> steal) = BalancePlan.Decide(partitions, host.InstanceId, mine, ownership, host.Random);
        // Claimed side by side (each partition has its own lease blob), each processor starting as its lease arrives: a
        // new instance reads its first events one lease round-trip after start, not one per partition (cold start).
        await Task.WhenAll(claim.Where(p => !RecentlyHandedOver(p)).Select(async p =>
        {
            if (await host.Checkpoints.TryAcquireAsync(fn.ConsumerGroup, fn.Stream, p, host.Options.LeaseDuration, cancellationToken) is { } lease)
            {
                host.Logger.LogInformation("{Function}: claimed partition {Partition} of {Stream}", fn.Name, p, fn.Stream);
                ColdStart.Claimed(host.Logger);
                Replace(p, PartitionProcessor.Start(host, lease));
            }
        }));

        foreach (int p in steal)
        {
            // Asked, not taken: the owner hands it over at its next renewal, and a later cycle claims it.
            string? from = ownership.FirstOrDefault(o => o.Partition == p)?.OwnerId;
            await host.Checkpoints.RequestHandoverAsync(fn.ConsumerGroup, fn.Stream, p, host.Options.LeaseDuration, cancellationToken);
            host.Logger.LogInformation("{Function}: asked {Owner} to hand over partition {Partition} of {Stream} to balance load", fn.Name, from, p, fn.Stream);
        }

        await ReportAsync(ownership, cancellationToken);
    }

    /// <summary>
    /// Gives a partition up without overlap: no new invocation starts, the in-flight one finishes, what was handled is
    /// checkpointed (the lease stays valid for writes while it is being broken), then the lease is released. The
    /// partition is not claimed back for a few cycles, so the instance that asked gets it.
    /// </summary>
    private void HandOver(PartitionProcessor processor)
    {
        lock (gate)
        {
            if (processors.TryGetValue(processor.Partition, out PartitionProcessor? current) && current == processor)
            {
                processors.Remove(processor.Partition);
            }

            handedOver[processor.Partition] = DateTimeOffset.MaxValue; // not claimed back while the handover is pending
        }

        processor.Stop();
        Task done = ReleaseAfterAsync(processor);
        lock (gate)
        {
            handovers.RemoveAll(h => h.Released.IsCompleted);
            handovers.Add((processor, done));
        }
    }

    private async Task ReleaseAfterAsync(PartitionProcessor processor)
    {
        await processor.Completion;
        try
        {
            await host.Checkpoints.ReleaseAsync(processor.Lease, CancellationToken.None);
            host.Logger.LogInformation("{Function}: handed over partition {Partition} of {Stream} at offset {Offset}", host.Function.Name, processor.Partition, host.Function.Stream, processor.NextOffset);
        }
        catch (Exception ex)
        {
            host.Logger.LogWarning("{Function}: releasing partition {Partition} after handing it over failed ({Error}); it frees itself when the lease runs out", host.Function.Name, processor.Partition, ex.Message.Split('\n')[0]);
        }
        finally
        {
            lock (gate)
            {
                handedOver[processor.Partition] = host.Time.GetUtcNow(); // the asker's window starts now
            }
        }
    }

    private bool RecentlyHandedOver(int partition)
    {
        lock (gate)
        {
            return handedOver.TryGetValue(partition, out DateTimeOffset at) && host.Time.GetUtcNow() - at < host.Options.LoadBalancingInterval * 3;
        }
    }

    private void Drop(PartitionProcessor processor)
    {
        processor.Abort();
        lock (gate)
        {
            if (processors.TryGetValue(processor.Partition, out PartitionProcessor? current) && current == processor)
            {
                processors.Remove(processor.Partition);
            }
        }
    }

    private void Replace(int partition, PartitionProcessor processor)
    {
        lock (gate)
        {
            processors[partition] = processor;
        }
    }

    private async Task ReportAsync(IReadOnlyList<PartitionOwnership> ownership, CancellationToken cancellationToken)
    {
        FunctionDefinition fn = host.Function;
        IReadOnlyList<int> owned = Owned;
        FunctionGauges.SetOwned(fn.Name, fn.Stream, fn.ConsumerGroup, owned.Count);
        foreach (int gone in reported.Except(owned).ToList())
        {
            // Another instance reports it now: drop ours rather than leave a stale value.
            FunctionGauges.RemoveLag(fn.Name, fn.Stream, fn.ConsumerGroup, gone);
            reported.Remove(gone);
        }

        if (owned.Count == 0)
        {
            return;
        }

        // One listing per cycle; footers are re-read only for partitions that received events.
        IReadOnlyList<PartitionInfo> infos = await host.Source.GetPartitionsAsync(fn.Stream, cancellationToken);
        foreach (int p in owned)
        {
            long? cp = ownership.FirstOrDefault(o => o.Partition == p)?.NextOffset;
            PartitionLag lag = PartitionLag.Compute(infos[p], cp, host.Options.InitialOffset);
            FunctionGauges.SetLag(fn.Name, fn.Stream, fn.ConsumerGroup, p, lag.Lag);
            reported.Add(p);
        }
    }
}
