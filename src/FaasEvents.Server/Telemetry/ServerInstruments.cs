using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using FaasEvents.Log.Telemetry;

namespace FaasEvents.Server.Telemetry;

/// <summary>
/// The control plane's metrics (meter <see cref="FaasTelemetry.Name"/>): ingress counters and the consumer lag the
/// scaler computed, per stream, group and partition (also for groups with no instance running). docs/observability.md lists them.
/// </summary>
internal static class ServerInstruments
{
    private static readonly Meter Meter = new(FaasTelemetry.Name);
    private static readonly ConcurrentDictionary<(string Stream, string Group, int Partition), long> Lags = new();

    public static readonly Counter<long> IngressEvents = Meter.CreateCounter<long>("faas.ingress.events", "{event}", "Events accepted by the HTTP ingress.");

    public static readonly Counter<long> IngressRejected = Meter.CreateCounter<long>("faas.ingress.rejected", "{request}", "Ingress requests rejected, by HTTP status (http.response.status_code).");

    public static readonly Counter<long> IngressRepeats = Meter.CreateCounter<long>("faas.ingress.repeats", "{event}", "Events posted again (same source and id within the repeat window), answered with the first copy's position and not written again.");

    static ServerInstruments()
    {
        Meter.CreateObservableGauge(
            "faas.consumer.lag",
            () => Lags.Select(kv => new Measurement<long>(kv.Value, new TagList
            {
                { MessagingAttributes.DestinationName, kv.Key.Stream },
                { MessagingAttributes.ConsumerGroup, kv.Key.Group },
                { MessagingAttributes.PartitionId, kv.Key.Partition.ToString(CultureInfo.InvariantCulture) },
            })),
            "{event}",
            "Lag per stream, consumer group and partition, as last computed by the scaler.");
    }

    /// <summary>The scaler computed <paramref name="lag"/> for a group's partition.</summary>
    public static void SetLag(string stream, string group, int partition, long lag) => Lags[(stream, group, partition)] = lag;

    public static KeyValuePair<string, object?> Stream(string stream) => new(MessagingAttributes.DestinationName, stream);

    public static KeyValuePair<string, object?> Status(int status) => new("http.response.status_code", status);
}
