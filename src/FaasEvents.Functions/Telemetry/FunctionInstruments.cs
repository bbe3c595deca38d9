using System.Diagnostics.Metrics;
using FaasEvents.Log.Telemetry;

namespace FaasEvents.Functions.Telemetry;

/// <summary>
/// The function runtime's metrics (meter <see cref="FaasTelemetry.Name"/>), exported by OpenTelemetry: scraped at
/// <c>/metrics</c> in Prometheus form (dots become underscores, counters end in <c>_total</c>, seconds in
/// <c>_seconds</c>) and pushed over OTLP when configured. docs/observability.md lists them.
/// </summary>
internal static class FunctionInstruments
{
    private static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    public static readonly Meter Meter = new(FaasTelemetry.Name);

    /// <summary>
    /// The messaging conventions' process duration: one invocation (pipeline included), per function (<c>faas.name</c>;
    /// failures also carry <c>error.type</c>). Per function, not per partition: a measurement's cost grows with its
    /// attributes and this one is taken for every invocation.
    /// </summary>
    public static readonly Histogram<double> ProcessDuration = Seconds("messaging.process.duration", "Duration of one invocation (middleware included), by outcome (error.type on failures).");

    public static readonly Histogram<double> ColdStart = Seconds("faas.function.coldstart.duration", "Process start to the first partition claimed (faas.coldstart.phase=claimed) and to the first handler invocation (phase=invoked); once per process.");

    public static readonly Histogram<double> WakeLatency = Seconds("faas.function.wake.latency", "First event appended to an idle partition to its invocation: warm (a running instance was waiting) or cold (the process started for it; includes the cold start).");

    public static readonly Histogram<double> StateCommitDuration = Seconds("faas.function.state.commit.duration", "A materializer's state commit (changelog, delta or snapshot, checkpoint).");

    static FunctionInstruments()
    {
        // Counted in PartitionCounters (an interlocked add per event) and reported when metrics are collected.
        Meter.CreateObservableCounter("faas.function.events.handled", () => FunctionGauges.ObserveCounter(c => c.Handled), "{event}", "Events whose invocation succeeded.");
        Meter.CreateObservableCounter("faas.function.invocation.failures", () => FunctionGauges.ObserveCounter(c => c.Failures), "{invocation}", "Invocations that threw (each try counts).");
        Meter.CreateObservableCounter("faas.function.retries", () => FunctionGauges.ObserveCounter(c => c.Retries), "{invocation}", "Tries after the first one (the retry policy's).");
        Meter.CreateObservableCounter("faas.function.events.deadlettered", () => FunctionGauges.ObserveCounter(c => c.DeadLettered), "{event}", "Events sent to the dead-letter stream after the last retry.");
        Meter.CreateObservableCounter("faas.function.duplicates.skipped", () => FunctionGauges.ObserveCounter(c => c.DuplicatesSkipped), "{event}", "Stored copies of writes already delivered (an upstream re-run's or a paused owner's), passed without invoking the function.");
        Meter.CreateObservableGauge("faas.function.partition.lag", FunctionGauges.ObserveLag, "{event}", "End offset minus checkpoint, per owned partition, as of the last balancing cycle.");
        Meter.CreateObservableGauge("faas.function.partition.lag.age", FunctionGauges.ObserveLagAge, "s", "Age of the oldest event of the partition not yet handled (0 when caught up), per owned partition.");
        Meter.CreateObservableGauge("faas.function.partition.stalled", FunctionGauges.ObserveStalled, null, "1 while a runtime write of the partition (outputs, checkpoint, dead letter) has failed 3 or more tries in a row; the partition does not move on meanwhile.");
        Meter.CreateObservableGauge("faas.function.owned.partitions", FunctionGauges.ObserveOwned, "{partition}", "Partitions this instance owns, per function.");
    }

    /// <summary>Makes sure every instrument is created (the observable ones with the class).</summary>
    public static void EnsureCreated()
    {
    }

    private static Histogram<double> Seconds(string name, string description) =>
        Meter.CreateHistogram(name, "s", description, tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
}
