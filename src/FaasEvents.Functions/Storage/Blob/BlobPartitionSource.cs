using System.Collections.Concurrent;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Reader;

namespace FaasEvents.Functions.Storage.Blob;

/// <summary>Reads a function's trigger stream from the event log; partition extents come from one listing per call (<see cref="EndOffsetTracker"/>).</summary>
internal sealed class BlobPartitionSource(EventLogClient log) : IPartitionSource
{
    private readonly ConcurrentDictionary<string, EndOffsetTracker> trackers = new(StringComparer.Ordinal);

    public async Task<int> GetPartitionCountAsync(string stream, CancellationToken cancellationToken) =>
        (await log.GetStreamAsync(stream, cancellationToken)).Partitions;

    public async Task<long> GetEndOffsetAsync(string stream, int partition, CancellationToken cancellationToken) =>
        (await log.GetPartitionAsync(stream, partition, cancellationToken)).EndOffset;

    public Task<IReadOnlyList<PartitionInfo>> GetPartitionsAsync(string stream, CancellationToken cancellationToken) =>
        trackers.GetOrAdd(stream, log.CreateEndOffsetTracker).RefreshAsync(cancellationToken);

    public IAsyncEnumerable<EventBlock> ReadAsync(string stream, int partition, ReadOptions options, CancellationToken cancellationToken) =>
        log.ReadBlocksAsync(stream, partition, options, cancellationToken);

    public DateTimeOffset? StreamCreatedAt(string stream) => trackers.TryGetValue(stream, out EndOffsetTracker? tracker) ? tracker.CreatedAt : null;

    public Task NextAppendAsync(string stream, int partition) => log.NextAppendAsync(stream, partition);

    public Task FollowAppendNoticesAsync(string stream, Action<string> problem, CancellationToken cancellationToken) =>
        log.FollowServerNoticesAsync(stream, problem, cancellationToken);
}
