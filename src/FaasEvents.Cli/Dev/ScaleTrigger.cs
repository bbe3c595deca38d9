using FaasEvents.Server.Scaling.Grpc;

namespace FaasEvents.Cli.Dev;

/// <summary>One ScaledObject trigger, as <c>faas dev</c> sends it to the scaler.</summary>
/// <param name="Function">Function name.</param>
/// <param name="Stream">Stream.</param>
/// <param name="ConsumerGroup">Consumer group.</param>
/// <param name="LagThreshold">Target lag per instance.</param>
/// <param name="ActivationLagThreshold">Active only above this lag.</param>
/// <param name="Queue">The group consumes its stream as a queue (replicas are not capped by the partition count).</param>
internal sealed record ScaleTrigger(string Function, string Stream, string ConsumerGroup, long LagThreshold, long ActivationLagThreshold, bool Queue = false)
{
    public ScaledObjectRef ToRef()
    {
        var r = new ScaledObjectRef { Name = "faas-dev", Namespace = "local" };
        r.ScalerMetadata["stream"] = Stream;
        r.ScalerMetadata["consumerGroup"] = ConsumerGroup;
        r.ScalerMetadata["lagThreshold"] = LagThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture);
        r.ScalerMetadata["activationLagThreshold"] = ActivationLagThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Queue)
        {
            r.ScalerMetadata["consumption"] = "queue";
        }

        return r;
    }
}
