using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Format;
using FaasEvents.Log.Storage;

namespace FaasEvents.Log.Streams;

/// <summary>
/// The streams of a log: their definitions (<c>stream.json</c>) and their lifecycle. Create never touches data of
/// a live stream; delete marks the definition first and removes it last, so an interrupted delete is finished by
/// the next delete or create.
/// </summary>
internal sealed class StreamCatalog
{
    private readonly LogStore store;

    public StreamCatalog(LogStore store) => this.store = store;

    /// <summary>
    /// Creates a stream. Throws <see cref="EventLogErrorReason.StreamAlreadyExists"/> if it exists (and then changes
    /// nothing), and <see cref="EventLogErrorReason.LeftoverData"/> if segments of an earlier stream of that name remain.
    /// Never deletes data of a stream that exists; finishes an interrupted delete of an earlier one.
    /// </summary>
    public async Task<StreamDefinition> CreateStreamAsync(StreamDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        definition = definition with { CreatedAt = definition.CreatedAt == default ? store.TimeProvider.GetUtcNow() : definition.CreatedAt, FormatVersion = BatchFormat.FormatVersion };
        definition.Validate();
        await store.EnsureContainerAsync(cancellationToken);
        BlobClient document = store.Container.GetBlobClient(StoragePaths.StreamDocument(definition.Name));
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(StreamDocument.From(definition), StreamDocument.Json);
        for (int attempt = 0; ; attempt++)
        {
            BlobProperties? existing = await TryGetPropertiesAsync(document, cancellationToken);
            if (existing is not null)
            {
                if (!StreamDocument.IsDeleting(existing.Metadata) || attempt >= 3)
                {
                    throw new EventLogException(EventLogErrorReason.StreamAlreadyExists, $"Stream '{definition.Name}' already exists.");
                }

                // An earlier stream of this name was being deleted when its deleter stopped: it is not live, finish the job.
                await FinishDeleteAsync(definition.Name, existing.ETag, cancellationToken);
                continue;
            }

            if (await AnyBlobAsync(StoragePaths.StreamPrefix(definition.Name), cancellationToken)
                && await TryGetPropertiesAsync(document, cancellationToken) is null) // a live stream's definition is written before its first segment
            {
                throw new EventLogException(
                    EventLogErrorReason.LeftoverData,
                    $"Stream '{definition.Name}' cannot be created: segments of an earlier stream of that name remain (a delete was interrupted). Remove them with 'faas streams delete {definition.Name}', then create it again.");
            }

            try
            {
                await document.UploadAsync(
                    new BinaryData(json),
                    new BlobUploadOptions
                    {
                        Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                        HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                    },
                    cancellationToken);
                return definition;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Someone created it between our look and our write: look again (it may be a deleting one).
                if (attempt >= 3)
                {
                    throw new EventLogException(EventLogErrorReason.StreamAlreadyExists, $"Stream '{definition.Name}' already exists.", ex);
                }
            }
        }
    }

    /// <summary>Reads a stream's definition. Throws <see cref="EventLogErrorReason.StreamNotFound"/>.</summary>
    public async Task<StreamDefinition> GetStreamAsync(string name, CancellationToken cancellationToken = default) =>
        await TryGetStreamAsync(name, cancellationToken)
        ?? throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{name}' does not exist in container '{store.Container.Name}'. Create it first (faas streams create {name} --partitions N).");

    /// <summary>Reads a stream's definition, or null when it does not exist.</summary>
    public async Task<StreamDefinition?> TryGetStreamAsync(string name, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(name, "stream");
        try
        {
            BlobDownloadResult result = (await store.Container.GetBlobClient(StoragePaths.StreamDocument(name)).DownloadContentAsync(cancellationToken)).Value;
            return StreamDocument.IsDeleting(result.Details.Metadata) ? null : StreamDocument.Parse(name, result.Content);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Lists all streams.</summary>
    public async IAsyncEnumerable<StreamDefinition> ListStreamsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        try
        {
            await foreach (BlobHierarchyItem item in store.Container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", StoragePaths.StreamsRoot, cancellationToken))
            {
                if (item.IsPrefix)
                {
                    names.Add(item.Prefix[StoragePaths.StreamsRoot.Length..].TrimEnd('/'));
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            yield break;
        }

        foreach (string name in names)
        {
            if (await TryGetStreamAsync(name, cancellationToken) is { } def)
            {
                yield return def;
            }
        }
    }

    /// <summary>
    /// Deletes a stream, its segments and every consumer group's checkpoints for it. The definition is first marked
    /// as deleting (from then on the stream does not exist for anyone) and removed last, so an interrupted delete is
    /// finished by the next delete or create. Without a definition, removes the leftovers of an earlier interrupted
    /// delete, each only if unchanged since it was listed.
    /// </summary>
    public async Task DeleteStreamAsync(string name, CancellationToken cancellationToken = default)
    {
        StreamDefinition.ValidateName(name, "stream");
        BlobClient document = store.Container.GetBlobClient(StoragePaths.StreamDocument(name));
        for (int attempt = 0; ; attempt++)
        {
            BlobProperties? props = await TryGetPropertiesAsync(document, cancellationToken);
            if (props is null)
            {
                if (!await DeleteLeftoversAsync(name, cancellationToken))
                {
                    throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{name}' does not exist.");
                }

                return;
            }

            ETag tombstone = props.ETag;
            if (!StreamDocument.IsDeleting(props.Metadata))
            {
                try
                {
                    var metadata = new Dictionary<string, string>(props.Metadata) { [StreamDocument.DeletingKey] = "true" };
                    tombstone = (await document.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = props.ETag }, cancellationToken)).Value.ETag;
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412 && attempt < 3)
                {
                    continue; // changed under us: look again
                }
            }

            await FinishDeleteAsync(name, tombstone, cancellationToken);
            return;
        }
    }

    /// <summary>Removes a deleting stream's segments and checkpoints, then its definition (only if still that tombstone).</summary>
    private async Task FinishDeleteAsync(string name, ETag tombstone, CancellationToken cancellationToken)
    {
        await DeleteBlobsAsync(StoragePaths.StreamPrefix(name), except: StoragePaths.StreamDocument(name), cancellationToken);
        await new StreamPassRecorder(store).DeleteAsync(name, cancellationToken);
        await DeleteBlobsAsync($"{StoragePaths.SchemasRoot}{name}/", except: null, cancellationToken); // its contract (any creation's)
        await DeleteBlobsAsync($"{StoragePaths.QueuesRoot}{name}/", except: null, cancellationToken); // its queue groups' state
        foreach (string blob in await ListGroupBlobsAsync(name, cancellationToken))
        {
            await BreakLeaseAndDeleteAsync(blob, cancellationToken);
        }

        try
        {
            await store.Container.GetBlobClient(StoragePaths.StreamDocument(name)).DeleteAsync(conditions: new BlobRequestConditions { IfMatch = tombstone }, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Another deleter finished first.
        }
    }

    /// <summary>Deletes segments left by an interrupted delete, each only if its ETag is still the listed one. False when there were none.</summary>
    private async Task<bool> DeleteLeftoversAsync(string name, CancellationToken cancellationToken)
    {
        var blobs = new List<(string Name, ETag ETag)>();
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, StoragePaths.StreamPrefix(name), cancellationToken))
            {
                if (item.Name == StoragePaths.StreamDocument(name))
                {
                    return false; // the stream exists again: nothing here is a leftover
                }

                blobs.Add((item.Name, item.Properties.ETag ?? ETag.All));
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }

        foreach ((string blob, ETag etag) in blobs)
        {
            try
            {
                await store.Container.GetBlobClient(blob).DeleteAsync(conditions: new BlobRequestConditions { IfMatch = etag }, cancellationToken: cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Gone, or written since it was listed (a new stream's segment): not ours to delete.
            }
        }

        return blobs.Count > 0;
    }

    private async Task<List<string>> ListGroupBlobsAsync(string stream, CancellationToken cancellationToken)
    {
        var groupBlobs = new List<string>();
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, StoragePaths.GroupsRoot, cancellationToken))
            {
                string[] parts = item.Name.Split('/');
                if ((parts.Length == 4 || StoragePaths.IsWritersState(parts)) && parts[2] == stream)
                {
                    groupBlobs.Add(item.Name);
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return groupBlobs;
    }

    private async Task<bool> AnyBlobAsync(string prefix, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (Page<BlobItem> page in store.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).AsPages(pageSizeHint: 1))
            {
                return page.Values.Count > 0;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return false;
    }

    private static async Task<BlobProperties?> TryGetPropertiesAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private async Task DeleteBlobsAsync(string prefix, string? except, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
            {
                if (item.Name != except)
                {
                    names.Add(item.Name);
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return;
        }

        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (n, ct) =>
        {
            await store.Container.GetBlobClient(n).DeleteIfExistsAsync(cancellationToken: ct);
        });
    }

    private async Task BreakLeaseAndDeleteAsync(string blob, CancellationToken cancellationToken)
    {
        BlobClient client = store.Container.GetBlobClient(blob);
        try
        {
            await client.DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            await client.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: cancellationToken);
            await client.DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
    }
}
