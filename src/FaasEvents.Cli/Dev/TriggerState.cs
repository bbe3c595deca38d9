namespace FaasEvents.Cli.Dev;

/// <summary>What a polling round saw for one trigger.</summary>
internal sealed record TriggerState(ScaleTrigger Trigger, bool Active, long Metric, int Desired);
