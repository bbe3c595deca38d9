using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// What the parts of one partition's run share (the processor's read loop, <see cref="InvocationRetrier"/>,
/// <see cref="PartitionCheckpointer"/>, <see cref="LeaseWatchdog"/>): the lease, the stop / cut-short / abort signals,
/// how far it has handled, and why it halted.
/// </summary>
internal sealed class PartitionRun
{
    private readonly CancellationTokenSource stop = new();
    private readonly CancellationTokenSource abort = new();
    private readonly CancellationTokenSource cutShort = new();
    private readonly CancellationTokenSource ended = new();
    private readonly CancellationTokenSource invocations;
    private PartitionLease lease;

    public PartitionRun(PartitionLease lease)
    {
        this.lease = lease;
        invocations = CancellationTokenSource.CreateLinkedTokenSource(abort.Token, cutShort.Token);
    }

    public int Partition => lease.Partition;

    public PartitionLease Lease
    {
        get => Volatile.Read(ref lease);
        set => Volatile.Write(ref lease, value);
    }

    /// <summary>Fires on a graceful stop (and on abort): finish the in-flight invocation, checkpoint, end.</summary>
    public CancellationToken Stopping => stop.Token;

    /// <summary>Fires when the lease is gone: end at once, checkpoint nothing.</summary>
    public CancellationToken Aborted => abort.Token;

    /// <summary>Fires once the run's work is over (ends the lease watchdog).</summary>
    public CancellationToken Ended => ended.Token;

    /// <summary>What a handler's CancellationToken (and its outputs' append) follows: an abort, or the shutdown budget running out.</summary>
    public CancellationToken Invocations => invocations.Token;

    public bool IsStopping => stop.IsCancellationRequested;

    public bool IsAborted => abort.IsCancellationRequested;

    /// <summary>True once the shutdown budget ran out (the in-flight invocation was cancelled, not failed).</summary>
    public bool IsCutShort => cutShort.IsCancellationRequested;

    /// <summary>The next offset to handle (-1 until the first event is handled).</summary>
    public long NextOffset { get; set; } = -1;

    /// <summary>Where the batch holding <see cref="NextOffset"/> starts (a resume hint for the checkpoint).</summary>
    public LogPosition? NextPosition { get; set; }

    /// <summary>Delivers each sequenced write of the partition once; restored from the checkpoint when the run starts, settled with each checkpoint.</summary>
    public DuplicateFilter Filter { get; set; } = DuplicateFilter.Restore(null);

    /// <summary>The writer ids of this partition's outputs, dead letters and changelog (set when the run starts, from the checkpoint's generation).</summary>
    public PartitionWriters? Writers { get; set; }

    /// <summary>Held while the handled offset, position and a materializer's table change, so a commit sees them together.</summary>
    public SemaphoreSlim Progress { get; } = new(1, 1);

    /// <summary>Why the partition halted (null while it has not).</summary>
    public string? HaltReason { get; private set; }

    public void Halt(string reason) => HaltReason = reason;

    public void Stop() => stop.Cancel();

    /// <summary>Stop, and cancel the in-flight invocation (the shutdown budget is running out).</summary>
    public void CancelInvocations()
    {
        stop.Cancel();
        cutShort.Cancel();
    }

    /// <summary>The lease is gone: stop at once.</summary>
    public void Abort()
    {
        abort.Cancel();
        stop.Cancel();
    }

    /// <summary>Nothing more is invoked: ends the watchdog.</summary>
    public void End()
    {
        stop.Cancel();
        ended.Cancel();
    }
}
