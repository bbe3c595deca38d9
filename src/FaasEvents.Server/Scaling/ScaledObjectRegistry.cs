using System.Collections.Concurrent;
using FaasEvents.Log.Consumers;
using FaasEvents.Server.Scaling.Grpc;

namespace FaasEvents.Server.Scaling;

/// <summary>
/// The ScaledObjects KEDA has asked this scaler about, with what each was last told (lag, active, desired replicas):
/// the scaler's view of the functions it scales, for <c>GET /scaledobjects</c> and the console. Kept in memory: a server
/// that restarts learns them again at KEDA's next poll.
/// </summary>
public sealed class ScaledObjectRegistry(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Namespace, string Name, string Stream, string Group), ScaledObjectView> seen = new();

    /// <summary>Records a call about <paramref name="request"/> and what it was answered with.</summary>
    public void Seen(ScaledObjectRef request, ScalerMetadata metadata, LagReport report)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(report);
        long metric = metadata.Metric(report);
        long desired = metadata.IsActive(report) ? Math.Max(1, (metric + metadata.LagThreshold - 1) / metadata.LagThreshold) : 0;
        seen[(request.Namespace ?? "", request.Name ?? "", metadata.Stream, metadata.ConsumerGroup)] = new ScaledObjectView(
            request.Namespace ?? "", request.Name ?? "", metadata.Stream, metadata.ConsumerGroup, metadata.Queue ? "queue" : "stream", metadata.LagThreshold, time.GetUtcNow(), report.TotalLag, metadata.IsActive(report), desired);
    }

    /// <summary>Every ScaledObject seen, by namespace, name, stream and group.</summary>
    public IReadOnlyList<ScaledObjectView> List() => [.. seen.Values.OrderBy(v => v.Namespace, StringComparer.Ordinal).ThenBy(v => v.Name, StringComparer.Ordinal).ThenBy(v => v.Stream, StringComparer.Ordinal).ThenBy(v => v.ConsumerGroup, StringComparer.Ordinal)];
}
