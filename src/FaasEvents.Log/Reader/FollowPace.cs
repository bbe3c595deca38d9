namespace FaasEvents.Log.Reader;

/// <summary>
/// How long a following reader at the end of a partition waits before looking again: <see cref="ReadOptions.PollInterval"/>
/// after it read something, doubling with each empty look up to <see cref="ReadOptions.MaxPollInterval"/>, and cut
/// short by the partition's <see cref="AppendBell"/>.
/// </summary>
internal sealed class FollowPace
{
    /// <summary>The longest wait honoured (a timer cannot wait ~50 days; a reader that waits longer is not following).</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromHours(1);

    private readonly TimeSpan shortest;
    private readonly TimeSpan longest;
    private readonly TimeProvider time;
    private TimeSpan next;

    public FollowPace(ReadOptions options, TimeProvider time)
    {
        shortest = options.PollInterval;
        longest = options.MaxPollInterval is { } max && max > shortest ? Min(max, Longest) : shortest;
        this.time = time;
        next = shortest;
    }

    /// <summary>Something was read: the next wait is the shortest again.</summary>
    public void Moved() => next = shortest;

    /// <summary>
    /// Waits for the bell (armed before the empty look), the current interval or the token, whichever comes first, and
    /// leaves no timer or registration behind. Throws when the token is cancelled.
    /// </summary>
    public async Task WaitAsync(Task bell, CancellationToken cancellationToken)
    {
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), woken))
        using (time.CreateTimer(static s => ((TaskCompletionSource)s!).TrySetResult(), woken, next, Timeout.InfiniteTimeSpan))
        {
            Task first = await Task.WhenAny(bell, woken.Task);
            cancellationToken.ThrowIfCancellationRequested();
            next = first == bell ? shortest : Min(next * 2, longest);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
