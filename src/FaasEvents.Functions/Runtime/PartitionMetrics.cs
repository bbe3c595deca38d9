using System.Globalization;

namespace FaasEvents.Functions.Runtime;

/// <summary>The metrics of one function on one partition.</summary>
internal sealed class PartitionMetrics
{
    public PartitionMetrics(FunctionDefinition function, int partition)
    {
        string[] labels = [function.Name, function.Stream, function.ConsumerGroup, partition.ToString(CultureInfo.InvariantCulture)];
        Handled = FunctionMetrics.EventsHandled.WithLabels(labels);
        Failures = FunctionMetrics.Failures.WithLabels(labels);
        DeadLettered = FunctionMetrics.DeadLettered.WithLabels(labels);
        DuplicatesSkipped = FunctionMetrics.DuplicatesSkipped.WithLabels(labels);
        Duration = FunctionMetrics.HandlerDuration.WithLabels(function.Name);
        Stalled = FunctionMetrics.PartitionStalled.WithLabels(labels);
    }

    public Prometheus.Counter.Child Handled { get; }

    public Prometheus.Counter.Child Failures { get; }

    public Prometheus.Counter.Child DeadLettered { get; }

    public Prometheus.Counter.Child DuplicatesSkipped { get; }

    public Prometheus.Histogram.Child Duration { get; }

    public Prometheus.Gauge.Child Stalled { get; }
}
