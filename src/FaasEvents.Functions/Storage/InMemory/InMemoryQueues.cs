using FaasEvents.Log.Queues;

namespace FaasEvents.Functions.Storage.InMemory;

/// <summary>Queue state without storage: one <see cref="QueueBook"/> per partition, changed under a lock, on the given clock.</summary>
internal sealed class InMemoryQueues(TimeProvider clock) : IQueueStore
{
    private readonly Dictionary<(string Group, string Stream, int Partition), QueueBook> books = [];

    public TimeProvider Clock => clock;

    /// <summary>Nothing opened: the books are the queues.</summary>
    public void Forget(string group, string stream)
    {
    }

    public Task<QueueUpdate> SettleAndAcquireAsync(QueueKey queue, QueueRequest r, CancellationToken cancellationToken) =>
        Change(queue, book => book.Round(queue.Partition, r.Owner, r.Settlements, r.Max, r.LockDuration, r.EndOffset, r.Floor, queue.Window, clock.GetUtcNow(), out _, r.Counts));

    public Task<IReadOnlyList<long>> RenewAsync(QueueKey queue, string owner, IReadOnlyList<long> offsets, TimeSpan lockDuration, CancellationToken cancellationToken) =>
        Change(queue, book => book.Renew(owner, offsets, lockDuration, clock.GetUtcNow()));

    public Task PinStartAsync(QueueKey queue, long offset, CancellationToken cancellationToken)
    {
        lock (books)
        {
            books.TryAdd((queue.Group, queue.Stream, queue.Partition), QueueBook.StartingAt(offset));
        }

        return Task.CompletedTask;
    }

    /// <summary>The state of a partition's queue (tests).</summary>
    public QueueState StateOf(string group, string stream, int partition)
    {
        lock (books)
        {
            return books.TryGetValue((group, stream, partition), out QueueBook? book) ? book.ToState() : QueueState.Empty;
        }
    }

    private Task<T> Change<T>(QueueKey queue, Func<QueueBook, T> change)
    {
        lock (books)
        {
            if (!books.TryGetValue((queue.Group, queue.Stream, queue.Partition), out QueueBook? book))
            {
                books[(queue.Group, queue.Stream, queue.Partition)] = book = QueueBook.Parse(null);
            }

            return Task.FromResult(change(book));
        }
    }
}
