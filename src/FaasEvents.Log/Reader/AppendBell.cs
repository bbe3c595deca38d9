using System.Collections.Concurrent;

namespace FaasEvents.Log.Reader;

/// <summary>
/// The process's doorbell per (container, stream, partition): an appender rings it when an append has landed, and a
/// following reader at the end of a partition waits on it between polls, so an event appended by any client of this
/// process, or announced to it (e.g. by the server's append notices), is read at once instead of at the next poll.
/// The key leaves out any query (a SAS token). A ring without a waiter costs a dictionary lookup; a waiter holds one task, replaced at each ring.
/// </summary>
internal sealed class AppendBell
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> waiting = new(StringComparer.Ordinal);

    /// <summary>The bell every client of this process shares.</summary>
    public static AppendBell Shared { get; } = new();

    /// <summary>
    /// Completes at the next <see cref="Ring"/> of the partition. Shared by every waiter and not cancellable: wait with
    /// <see cref="Task.WhenAny(Task, Task)"/>, which detaches. Arm it before looking for new events, so an append in
    /// between is not missed.
    /// </summary>
    public Task Next(Uri container, string stream, int partition) =>
        waiting.GetOrAdd(Key(container, stream, partition), static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Wakes the partition's waiters.</summary>
    public void Ring(Uri container, string stream, int partition)
    {
        if (waiting.TryRemove(Key(container, stream, partition), out TaskCompletionSource? tcs))
        {
            tcs.TrySetResult();
        }
    }

    private static string Key(Uri container, string stream, int partition) =>
        string.Concat(container.GetLeftPart(UriPartial.Path), "\n", stream, "\n", partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
