using FaasEvents.Functions.Storage;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// A queue function's lock on the event of one invocation: when it ends, and its renewal
/// (<see cref="FunctionContext.RenewLockAsync"/>). Expiry is judged by the lock clock (storage's time), with a margin.
/// </summary>
internal sealed class EventLock(IQueueStore store, QueueKey queue, string owner, long offset, TimeSpan duration, TimeProvider clock, DateTimeOffset lockedUntil)
{
    private long lockedUntilTicks = lockedUntil.UtcTicks;

    public DateTimeOffset LockedUntil => new(Interlocked.Read(ref lockedUntilTicks), TimeSpan.Zero);

    /// <summary>Until when this instance may still start or finish work on the event: a margin before the lock ends (clocks and the settle's own time).</summary>
    public DateTimeOffset SafeUntil => LockedUntil - TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(2).Ticks, duration.Ticks / 10));

    /// <summary>How long until <see cref="SafeUntil"/> (zero or less: too late to start or finish work).</summary>
    public TimeSpan Remaining => SafeUntil - clock.GetUtcNow();

    public bool Expired => Remaining <= TimeSpan.Zero;

    public async Task<DateTimeOffset> RenewAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset asked = clock.GetUtcNow();
        IReadOnlyList<long> lost = await store.RenewAsync(queue, owner, [offset], duration, cancellationToken);
        if (lost.Count > 0)
        {
            throw new InvalidOperationException($"The lock on {queue.Stream} partition {queue.Partition} offset {offset} was lost (it ended at {LockedUntil:O}): another instance may be handling the event now. Stop working on it: its outcome will not be applied.");
        }

        DateTimeOffset next = asked + duration; // storage stamped at least this late
        Interlocked.Exchange(ref lockedUntilTicks, next.UtcTicks);
        return next;
    }
}
