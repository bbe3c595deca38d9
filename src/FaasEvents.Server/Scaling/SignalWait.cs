namespace FaasEvents.Server.Scaling;

/// <summary>
/// Waits for a shared signal, a timeout or a token, whichever comes first, and leaves nothing behind: the timer and the
/// token registration end with the wait, and the signal (shared, never cancelled) is only watched through
/// <see cref="Task.WhenAny(Task, Task)"/>, which detaches. Not <c>Task.Delay(timeout, time, token)</c>: a clock that
/// fires the delay's timer while <c>Task.Delay</c> is still registering on the token (a test clock stepping from
/// another thread) could leave the timer's cleanup spinning forever; here the timer only completes a task whose
/// continuations run elsewhere.
/// </summary>
internal static class SignalWait
{
    /// <summary>True when <paramref name="signal"/> came first; false on the timeout or the token (which the caller checks).</summary>
    public static async Task<bool> FirstAsync(Task signal, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), woken))
        using (time.CreateTimer(static s => ((TaskCompletionSource)s!).TrySetResult(), woken, timeout, Timeout.InfiniteTimeSpan))
        {
            return await Task.WhenAny(signal, woken.Task) == signal;
        }
    }
}
