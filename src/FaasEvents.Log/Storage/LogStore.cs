using Azure.Storage.Blobs;
using FaasEvents.Log.Notices;
using FaasEvents.Log.Reader;

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
        Identity = options.Identity;
        ReadRangeBytes = options.ReadRangeBytes;
        createContainerIfMissing = options.CreateContainerIfMissing;
        Bell = options.Bell;
        Notices = options.ServerUrl is { } server ? new ServerNotices(server, options.ServerApiKey, options.TimeProvider) : null;
    }

    /// <summary>Rung after each append of this client, waited on by its following readers (shared by the process's clients).</summary>
    public AppendBell Bell { get; }

    /// <summary>The server told about appends and followed for others' (null: none configured).</summary>
    public ServerNotices? Notices { get; }

    public BlobContainerClient Container { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>The identity producers of this client append as (null: none given).</summary>
    public string? Identity { get; }

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
