namespace FaasEvents.Server.Scaling;

/// <summary>A ScaledObject as this scaler has seen it (KEDA's calls): what it scales on and what it was last told.</summary>
/// <param name="Namespace">Its Kubernetes namespace (as KEDA sends it).</param>
/// <param name="Name">Its name.</param>
/// <param name="Stream">The stream it scales on.</param>
/// <param name="ConsumerGroup">The consumer group (a function's group).</param>
/// <param name="Consumption"><c>stream</c> or <c>queue</c>.</param>
/// <param name="LagThreshold">Target lag per instance.</param>
/// <param name="LastAskedAt">When KEDA last asked about it.</param>
/// <param name="Lag">The group's lag at that call.</param>
/// <param name="Active">Whether it was active (lag above the activation threshold).</param>
/// <param name="DesiredReplicas">The replicas its metric asks for (ceil(metric / lagThreshold); KEDA caps them at maxReplicaCount).</param>
public sealed record ScaledObjectView(string Namespace, string Name, string Stream, string ConsumerGroup, string Consumption, long LagThreshold, DateTimeOffset LastAskedAt, long Lag, bool Active, long DesiredReplicas);
