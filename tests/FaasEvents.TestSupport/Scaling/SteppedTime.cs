using Microsoft.Extensions.Time.Testing;

namespace FaasEvents.TestSupport.Scaling;

/// <summary>
/// A fake clock a test moves one timer at a time: <see cref="NextTimerAsync"/> waits until the code under test has
/// armed its next timer (it is then idle, waiting), and <see cref="FakeTimeProvider.Advance"/> fires it. A loop that
/// waits on this clock runs simulated hours in seconds, check by check.
/// </summary>
public sealed class SteppedTime() : FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
{
    private readonly SemaphoreSlim armed = new(0);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        armed.Release();
        return timer;
    }

    /// <summary>Completes when a timer has been created since the last call.</summary>
    public Task NextTimerAsync(CancellationToken cancellationToken) => armed.WaitAsync(cancellationToken);
}
