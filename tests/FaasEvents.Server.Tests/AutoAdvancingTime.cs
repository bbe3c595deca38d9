namespace FaasEvents.Server.Tests;

/// <summary>
/// A clock that never makes anyone wait: every timer fires at once (on the thread pool) and the clock jumps ahead by
/// its due time. A loop that waits on this clock runs simulated hours in seconds.
/// </summary>
internal sealed class AutoAdvancingTime : TimeProvider
{
    private readonly DateTimeOffset start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private long elapsedTicks;

    /// <summary>Simulated time since the start.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref elapsedTicks));

    public override DateTimeOffset GetUtcNow() => start + Elapsed;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FiringTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Waits (in real time) until the simulated clock has passed <paramref name="elapsed"/>.</summary>
    public async Task WaitUntilAsync(TimeSpan elapsed, CancellationToken cancellationToken)
    {
        while (Elapsed < elapsed)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    private sealed class FiringTimer(AutoAdvancingTime time, TimerCallback callback, object? state) : ITimer
    {
        private bool disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (disposed || dueTime == Timeout.InfiniteTimeSpan)
            {
                return !disposed;
            }

            Interlocked.Add(ref time.elapsedTicks, dueTime.Ticks);
            ThreadPool.QueueUserWorkItem(_ =>
            {
                if (!disposed)
                {
                    callback(state);
                }
            });
            return true;
        }

        public void Dispose() => disposed = true;

        public ValueTask DisposeAsync()
        {
            disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
