using Prometheus;

namespace FaasEvents.Functions.Runtime;

/// <summary>Prometheus metrics of the function runtime (served at <c>/metrics</c>).</summary>
internal static class FunctionMetrics
{
    private static readonly string[] Labels = ["function", "stream", "group", "partition"];

    public static readonly Counter EventsHandled = Metrics.CreateCounter("faas_function_events_handled_total", "Events whose invocation succeeded.", Labels);
    public static readonly Counter Failures = Metrics.CreateCounter("faas_function_invocation_failures_total", "Invocations that threw (each try counts).", Labels);
    public static readonly Counter DeadLettered = Metrics.CreateCounter("faas_function_events_deadlettered_total", "Events sent to the dead-letter stream after the last retry.", Labels);
    public static readonly Counter DuplicatesSkipped = Metrics.CreateCounter("faas_function_duplicates_skipped_total", "Stored copies of writes already delivered (an upstream re-run's or a paused owner's), passed without invoking the function.", Labels);
    public static readonly Gauge PartitionStalled = Metrics.CreateGauge("faas_function_partition_stalled", "1 while a runtime write of the partition (outputs, checkpoint, dead letter) has failed 3 or more tries in a row; the partition does not move on meanwhile.", Labels);
    public static readonly Gauge Lag = Metrics.CreateGauge("faas_function_partition_lag", "End offset minus checkpoint, per owned partition, as of the last balancing cycle.", Labels);
    public static readonly Gauge OwnedPartitions = Metrics.CreateGauge("faas_function_owned_partitions", "Partitions this instance owns.", "function", "stream", "group");
    public static readonly Histogram HandlerDuration = Metrics.CreateHistogram(
        "faas_function_handler_duration_seconds",
        "Handler latency per invocation (pipeline included).",
        new HistogramConfiguration { LabelNames = ["function"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
}
