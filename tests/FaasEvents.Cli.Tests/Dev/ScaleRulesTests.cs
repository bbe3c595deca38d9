using FaasEvents.Cli.Dev;

namespace FaasEvents.Cli.Tests.Dev;

public class ScaleRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static TriggerState Reading(bool active, long metric, long threshold = 1000) =>
        new(new ScaleTrigger("f", "s", "g", threshold, 0), active, metric, ScaleRules.DesiredFor(active, metric, threshold));

    [Theory]
    [InlineData(false, 0, 0)]
    [InlineData(true, 1, 1)]        // active with a little lag: one instance
    [InlineData(true, 1000, 1)]
    [InlineData(true, 1001, 2)]     // HPA AverageValue: ceil(metric / target)
    [InlineData(true, 8000, 8)]
    public void Desired_is_ceil_of_metric_over_threshold(bool active, long metric, int desired) =>
        Assert.Equal(desired, ScaleRules.DesiredFor(active, metric, 1000));

    [Fact]
    public void Scale_out_is_immediate_and_capped_at_max_replicas()
    {
        Assert.Equal(8, ScaleRules.Decide(0, [Reading(true, 8000)], maxReplicas: 8, Now, Now, TimeSpan.FromSeconds(15)));
        Assert.Equal(8, ScaleRules.Decide(2, [Reading(true, 100_000)], maxReplicas: 8, Now, Now, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public void The_busiest_trigger_decides()
    {
        Assert.Equal(3, ScaleRules.Decide(0, [Reading(true, 2500), Reading(true, 10), Reading(false, 0)], 8, Now, Now, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public void Scale_in_and_to_zero_wait_for_the_cooldown()
    {
        TimeSpan cooldown = TimeSpan.FromSeconds(15);
        Assert.Equal(4, ScaleRules.Decide(4, [Reading(false, 0)], 8, Now, lastActive: Now.AddSeconds(-5), cooldown));
        Assert.Equal(0, ScaleRules.Decide(4, [Reading(false, 0)], 8, Now, lastActive: Now.AddSeconds(-15), cooldown));
        Assert.Equal(4, ScaleRules.Decide(4, [Reading(true, 1500)], 8, Now, lastActive: Now, cooldown)); // still needs 2, keeps 4 until stable
        Assert.Equal(2, ScaleRules.Decide(4, [Reading(true, 1500)], 8, Now, lastActive: Now.AddSeconds(-20), cooldown));
    }
}
