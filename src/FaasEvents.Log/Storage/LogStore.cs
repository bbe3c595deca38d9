using Azure.Storage.Blobs;

namespace FaasEvents.Log.Storage;

/// <summary>
/// The root of the log's storage layer: the blob container, its clock and read size, and the one-time container
/// create. Every storage class of the log depends on this (or on a class built on it); nothing here knows the facade.
/// </summary>
internal sealed class LogStore
{
    private readonly bool createContainerIfMissing;
    private Task? containerReady;

    public LogStore(BlobContainerClient container, EventLogClientOptions options)
    {
        Container = container;
        TimeProvider = options.TimeProvider;
        ReadRangeBytes = options.ReadRangeBytes;
        createContainerIfMissing = options.CreateContainerIfMissing;
    }

    public BlobContainerClient Container { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>Jitter for retries and the producer's first sticky partition; shared by every appender thread, so it must be thread-safe.</summary>
    public Random Random { get; } = Random.Shared;

    /// <summary>Most bytes a reader fetches from a segment in one request.</summary>
    public int ReadRangeBytes { get; }

    /// <summary>A partition's checkpoint blob for a consumer group (its lease is the partition's ownership).</summary>
    public BlobClient CheckpointBlob(string group, string stream, int partition) =>
        Container.GetBlobClient(StoragePaths.Checkpoint(group, stream, partition));

    public Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (!createContainerIfMissing)
        {
            return Task.CompletedTask;
        }

        Task? ready = containerReady;
        if (ready is null || ready.IsFaulted || ready.IsCanceled)
        {
            ready = containerReady = Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }

        return ready;
    }
}
