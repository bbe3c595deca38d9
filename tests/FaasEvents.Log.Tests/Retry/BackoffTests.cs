using FaasEvents.Log.Retry;

namespace FaasEvents.Log.Tests.Retry;

public class BackoffTests
{
    [Fact]
    public void Exponential_doubles_from_the_first_delay_and_stops_at_the_cap()
    {
        Assert.Equal([100, 200, 400, 800, 1600, 2000, 2000], Enumerable.Range(1, 7).Select(a => Backoff.Exponential(a, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2)).TotalMilliseconds));
        Assert.Equal(TimeSpan.FromSeconds(2), Backoff.Exponential(1000, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2))); // no overflow
    }

    [Fact]
    public void Jitter_stays_within_its_bounds()
    {
        var random = new Random(42);
        TimeSpan[] full = Enumerable.Range(0, 1000).Select(_ => Backoff.FullJitter(TimeSpan.FromMilliseconds(20), random)).ToArray();
        Assert.All(full, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromMilliseconds(20) - TimeSpan.FromTicks(1)));
        Assert.True(full.Distinct().Count() > 100); // spread, not one value
        Assert.All(Enumerable.Range(0, 1000).Select(_ => Backoff.WithJitter(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(50), random)), d => Assert.InRange(d, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(150)));
        Assert.Equal(TimeSpan.Zero, Backoff.FullJitter(TimeSpan.Zero, random));
    }
}
