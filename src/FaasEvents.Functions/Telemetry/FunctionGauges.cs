using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using FaasEvents.Functions.Runtime;
using FaasEvents.Log.Telemetry;

namespace FaasEvents.Functions.Telemetry;

/// <summary>
/// What the observable gauges report, kept while it is true: lag per owned partition (set by the balancer, dropped
/// when the partition goes), the live partitions' stall and oldest pending event, and owned partitions per function.
/// A partition this instance no longer owns is not reported (another instance reports it).
/// </summary>
internal static class FunctionGauges
{
    private static readonly ConcurrentDictionary<(string Function, string Stream, string Group, int Partition), long> Lags = new();
    private static readonly ConcurrentDictionary<(string Function, string Stream, string Group), int> Owned = new();
    private static readonly ConcurrentDictionary<PartitionMetrics, byte> Live = new();
    private static readonly ConcurrentDictionary<(string Function, string Stream, string Group, int Partition), PartitionCounters> Counters = new();

    /// <summary>The cumulative counters of a function's partition in this process (the same object across restarts).</summary>
    public static PartitionCounters CountersFor(string function, string stream, string group, int partition) =>
        Counters.GetOrAdd((function, stream, group, partition), _ => new PartitionCounters());

    /// <summary>One measurement per function partition this process has counted, of <paramref name="count"/>.</summary>
    public static IEnumerable<Measurement<long>> ObserveCounter(Func<PartitionCounters, long> count) =>
        Counters.Select(kv => new Measurement<long>(count(kv.Value), PartitionTags(kv.Key.Function, kv.Key.Stream, kv.Key.Group, kv.Key.Partition)));

    public static void SetLag(string function, string stream, string group, int partition, long lag) => Lags[(function, stream, group, partition)] = lag;

    public static void RemoveLag(string function, string stream, string group, int partition) => Lags.TryRemove((function, stream, group, partition), out _);

    public static void SetOwned(string function, string stream, string group, int count) => Owned[(function, stream, group)] = count;

    public static void Add(PartitionMetrics partition) => Live.TryAdd(partition, 0);

    public static void Remove(PartitionMetrics partition) => Live.TryRemove(partition, out _);

    public static IEnumerable<Measurement<long>> ObserveLag() =>
        Lags.Select(kv => new Measurement<long>(kv.Value, PartitionTags(kv.Key.Function, kv.Key.Stream, kv.Key.Group, kv.Key.Partition)));

    public static IEnumerable<Measurement<double>> ObserveLagAge() =>
        Live.Keys.Select(p => new Measurement<double>(p.PendingAge().TotalSeconds, p.Tags));

    public static IEnumerable<Measurement<int>> ObserveStalled() =>
        Live.Keys.Select(p => new Measurement<int>(p.IsStalled ? 1 : 0, p.Tags));

    public static IEnumerable<Measurement<int>> ObserveOwned() =>
        Owned.Select(kv => new Measurement<int>(kv.Value, new TagList
        {
            { MessagingAttributes.FunctionName, kv.Key.Function },
            { MessagingAttributes.DestinationName, kv.Key.Stream },
            { MessagingAttributes.ConsumerGroup, kv.Key.Group },
        }));

    /// <summary>The attributes of one function's partition, as every per-partition metric carries them.</summary>
    public static TagList PartitionTags(string function, string stream, string group, int partition) => new()
    {
        { MessagingAttributes.FunctionName, function },
        { MessagingAttributes.DestinationName, stream },
        { MessagingAttributes.ConsumerGroup, group },
        { MessagingAttributes.PartitionId, partition.ToString(CultureInfo.InvariantCulture) },
    };
}
