using System.Diagnostics;
using FaasEvents.Functions.Telemetry;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Telemetry;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// The metrics of one function on one partition: counters and histograms recorded with the partition's attributes,
/// and what its gauges report while the partition runs here (<see cref="Start"/> .. <see cref="End"/>).
/// </summary>
internal sealed class PartitionMetrics
{
    private readonly TimeProvider time;
    private readonly PartitionCounters counters;
    private readonly KeyValuePair<string, object?> function;
    private long pendingSince = long.MinValue;
    private int stalled;

    public PartitionMetrics(FunctionDefinition function, int partition, TimeProvider time)
    {
        this.time = time;
        Tags = FunctionGauges.PartitionTags(function.Name, function.Stream, function.ConsumerGroup, partition);
        counters = FunctionGauges.CountersFor(function.Name, function.Stream, function.ConsumerGroup, partition);
        this.function = new KeyValuePair<string, object?>(MessagingAttributes.FunctionName, function.Name);
    }

    /// <summary>faas.name, messaging.destination.name, messaging.consumer.group.name, messaging.destination.partition.id.</summary>
    public TagList Tags { get; }

    /// <summary>True while a runtime write of the partition keeps failing (<see cref="WriteStall"/>).</summary>
    public bool IsStalled
    {
        get => Volatile.Read(ref stalled) == 1;
        set => Volatile.Write(ref stalled, value ? 1 : 0);
    }

    /// <summary>The partition runs here: its gauges are reported.</summary>
    public void Start() => FunctionGauges.Add(this);

    /// <summary>The partition stopped here: its gauges are not reported any more.</summary>
    public void End() => FunctionGauges.Remove(this);

    /// <summary>The oldest event not yet handled was appended at <paramref name="appended"/> (null: caught up).</summary>
    public void Pending(DateTimeOffset? appended) => Volatile.Write(ref pendingSince, appended?.ToUnixTimeMilliseconds() ?? long.MinValue);

    /// <summary>How long the oldest event not yet handled has waited (zero when caught up).</summary>
    public TimeSpan PendingAge()
    {
        long since = Volatile.Read(ref pendingSince);
        return since == long.MinValue ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(0, time.GetUtcNow().ToUnixTimeMilliseconds() - since));
    }

    /// <summary>What this process counted on the partition so far (a checkpoint stores the difference since the last one).</summary>
    public WorkCounts Counts => counters.Snapshot();

    public void Handled(int events) => counters.AddHandled(events);

    /// <summary>This process invoked the function for the first time, on this partition.</summary>
    public void ColdStarted() => counters.AddColdStart();

    public void Failed() => counters.AddFailure();

    public void Retried() => counters.AddRetry();

    public void DeadLettered(int events) => counters.AddDeadLettered(events);

    public void DuplicatesSkipped(int events) => counters.AddDuplicatesSkipped(events);

    /// <summary>One invocation took <paramref name="seconds"/>; <paramref name="error"/> is what it threw, if it failed.</summary>
    public void Invoked(double seconds, Exception? error)
    {
        if (error is null)
        {
            FunctionInstruments.ProcessDuration.Record(seconds, function);
            return;
        }

        FunctionInstruments.ProcessDuration.Record(seconds, function, new KeyValuePair<string, object?>(MessagingAttributes.ErrorType, error.GetType().FullName));
    }

    /// <summary>An event appended to the idle partition was invoked <paramref name="latency"/> later.</summary>
    public void Woke(TimeSpan latency, bool cold)
    {
        TagList tags = Tags;
        tags.Add("faas.wake.kind", cold ? "cold" : "warm");
        FunctionInstruments.WakeLatency.Record(Math.Max(0, latency.TotalSeconds), tags);
    }

    public void StateCommitted(double seconds) => FunctionInstruments.StateCommitDuration.Record(seconds, Tags);
}
