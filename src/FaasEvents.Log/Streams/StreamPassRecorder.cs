using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Storage;

namespace FaasEvents.Log.Streams;

/// <summary>
/// Keeps the last pass of each kind per stream in <c>maintenance/{stream}/{kind}.json</c> (deleted with the
/// stream; a record from an earlier stream of the same name, e.g. one written while it was deleted, is ignored by its
/// creation time). A pass that changed
/// nothing is recorded at most every <see cref="QuietInterval"/> per process, so a schedule over idle streams adds no
/// steady write cost; one that removed something or failed is always recorded. Recording is best effort: a failed write
/// never fails the pass.
/// </summary>
internal sealed class StreamPassRecorder(LogStore store)
{
    /// <summary>How often a pass that changed nothing is recorded again.</summary>
    public static readonly TimeSpan QuietInterval = TimeSpan.FromHours(6);

    private readonly ConcurrentDictionary<(string Stream, string Kind), DateTimeOffset> lastWritten = new();

    public async Task RecordAsync(StreamDefinition stream, StreamPass pass)
    {
        (string, string) key = (stream.Name, pass.Kind);
        bool quiet = pass.Segments == 0 && pass.Events == 0 && pass.Error is null;
        if (quiet && lastWritten.TryGetValue(key, out DateTimeOffset last) && pass.At - last < QuietInterval)
        {
            return;
        }

        try
        {
            var doc = new PassDocument(stream.CreatedAt, pass);
            await Blob(stream.Name, pass.Kind).UploadAsync(BinaryData.FromObjectAsJson(doc, StreamDocument.Json), overwrite: true);
            lastWritten[key] = pass.At;
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or IOException or TimeoutException or AggregateException)
        {
            // Best effort: the pass itself is done (or failed for its own reason), whatever storage says to its record.
        }
    }

    public async Task<IReadOnlyList<StreamPass>> ReadAsync(StreamDefinition stream, CancellationToken cancellationToken)
    {
        var passes = new List<StreamPass>(2);
        foreach (string kind in new[] { StreamPass.Retention, StreamPass.Compaction })
        {
            try
            {
                BlobDownloadResult content = (await Blob(stream.Name, kind).DownloadContentAsync(cancellationToken)).Value;
                PassDocument? doc = content.Content.ToObjectFromJson<PassDocument>(StreamDocument.Json);
                if (doc?.Pass is { } pass && doc.StreamCreatedAt == stream.CreatedAt)
                {
                    passes.Add(pass);
                }
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
            }
            catch (JsonException)
            {
                // An unreadable record says nothing about the stream's data: shown as no pass.
            }
        }

        return passes;
    }

    /// <summary>Deletes a stream's records (its delete calls this; a record left behind is ignored anyway).</summary>
    public async Task DeleteAsync(string stream, CancellationToken cancellationToken)
    {
        foreach (string kind in new[] { StreamPass.Retention, StreamPass.Compaction })
        {
            await Blob(stream, kind).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
    }

    private BlobClient Blob(string stream, string kind) => store.Container.GetBlobClient(StoragePaths.StreamPass(stream, kind));

    private sealed record PassDocument(DateTimeOffset StreamCreatedAt, StreamPass Pass);
}
