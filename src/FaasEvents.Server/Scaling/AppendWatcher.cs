namespace FaasEvents.Server.Scaling;

/// <summary>One watcher of a stream's appends: the partitions appended to since it last took them.</summary>
public sealed class AppendWatcher : IDisposable
{
    private readonly Action<AppendWatcher> remove;
    private readonly SortedSet<int> pending = [];
    private TaskCompletionSource signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal AppendWatcher(Action<AppendWatcher> remove) => this.remove = remove;

    internal void Add(IEnumerable<int> partitions)
    {
        TaskCompletionSource wake;
        lock (pending)
        {
            pending.UnionWith(partitions);
            wake = signal;
        }

        wake.TrySetResult();
    }

    /// <summary>
    /// The partitions appended to since the last call, waiting up to <paramref name="timeout"/> for some (empty when
    /// none came: time for a keep-alive). Throws when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task<IReadOnlyList<int>> TakeAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        Task wait;
        lock (pending)
        {
            if (pending.Count > 0)
            {
                return Take();
            }

            if (signal.Task.IsCompleted)
            {
                signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            wait = signal.Task;
        }

        await SignalWait.FirstAsync(wait, timeout, time, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        lock (pending)
        {
            return Take();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => remove(this);

    private int[] Take()
    {
        int[] taken = [.. pending];
        pending.Clear();
        return taken;
    }
}
