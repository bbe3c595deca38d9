namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Whether a partition's runtime write (outputs, checkpoint, dead letter) keeps failing: after
/// <see cref="ReportedAfter"/> failed tries in a row it is reported (health, the <c>faas.function.partition.stalled</c>
/// gauge) until a write succeeds. The partition does not move on meanwhile; this makes that visible.
/// </summary>
internal sealed class WriteStall(PartitionMetrics metrics)
{
    /// <summary>Failed tries in a row before the stall is reported.</summary>
    public const int ReportedAfter = 3;

    private PartitionStall? state;

    /// <summary>The stall being reported, or null while writes succeed (or have failed fewer than <see cref="ReportedAfter"/> times).</summary>
    public PartitionStall? Current => Volatile.Read(ref state) is { FailedTries: >= ReportedAfter } s ? s : null;

    /// <summary>A try of <paramref name="write"/> failed.</summary>
    public void Failed(string write, Exception error, DateTimeOffset now)
    {
        PartitionStall? old = Volatile.Read(ref state);
        string reason = error.Message.Split('\n')[0];
        var next = old is not null && old.Write == write ? old with { FailedTries = old.FailedTries + 1, Error = reason } : new PartitionStall(write, now, 1, reason);
        Volatile.Write(ref state, next);
        metrics.IsStalled = next.FailedTries >= ReportedAfter;
    }

    /// <summary>A write succeeded: nothing is stalled.</summary>
    public void Succeeded()
    {
        if (Volatile.Read(ref state) is not null)
        {
            Volatile.Write(ref state, null);
            metrics.IsStalled = false;
        }
    }
}
