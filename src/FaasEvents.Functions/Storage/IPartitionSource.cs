using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;

namespace FaasEvents.Functions.Storage;

/// <summary>Where a function's trigger events come from: a stream's partitions, read in offset order.</summary>
internal interface IPartitionSource
{
    /// <summary>The stream's partition count; <see cref="EventLogErrorReason.StreamNotFound"/> when it does not exist.</summary>
    Task<int> GetPartitionCountAsync(string stream, CancellationToken cancellationToken);

    /// <summary>The offset the next event appended to the partition will get.</summary>
    Task<long> GetEndOffsetAsync(string stream, int partition, CancellationToken cancellationToken);

    /// <summary>Every partition's extent (for lag); cheap to call once per balancing cycle.</summary>
    Task<IReadOnlyList<PartitionInfo>> GetPartitionsAsync(string stream, CancellationToken cancellationToken);

    /// <summary>Reads the partition batch by batch from <see cref="ReadOptions.From"/>, following new events when asked.</summary>
    IAsyncEnumerable<EventBlock> ReadAsync(string stream, int partition, ReadOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// When the stream was created, as the last <see cref="GetPartitionsAsync"/> found it (no request): a different value
    /// later means it was deleted and created again in between. Null when not known.
    /// </summary>
    DateTimeOffset? StreamCreatedAt(string stream);

    /// <summary>
    /// Completes when this process next learns of an append to the partition (made here, or announced by the server's
    /// notices); may complete for other appends too. Take it before looking at the partition's end. Shared by the
    /// partition's waiters and never cancelled: wait with <see cref="Task.WhenAny(Task[])"/>.
    /// </summary>
    Task NextAppendAsync(string stream, int partition);

    /// <summary>
    /// Wakes this process's following readers of <paramref name="stream"/> when others append to it (the server's append
    /// notices), until cancelled; <paramref name="problem"/> hears of outages. Completes at once where there is nothing to follow.
    /// </summary>
    Task FollowAppendNoticesAsync(string stream, Action<string> problem, CancellationToken cancellationToken);
}
