using System.Collections.Concurrent;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;

namespace FaasEvents.Server.Ingress;

/// <summary>
/// One <see cref="StreamIdWindow"/> per stream the ingress writes to, loaded on first use from the stream's tail
/// (every partition from <c>now - window</c>), so a repeat is recognised after a server restart too.
/// </summary>
internal sealed class RecentEventIds(EventLogClient log, ServerOptions options, TimeProvider time, ILogger<RecentEventIds> logger)
{
    /// <summary>How far before an uncertain write its copy may have been stamped (clocks of this server and its retries).</summary>
    private static readonly TimeSpan UncertainSlack = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, (DateTimeOffset CreatedAt, Lazy<Task<StreamIdWindow>> Window)> windows = new(StringComparer.Ordinal);

    /// <summary>False when <see cref="ServerOptions.IngressRepeatWindow"/> is zero: every post is written.</summary>
    public bool Enabled => options.IngressRepeatWindow > TimeSpan.Zero;

    /// <summary>The key of an event: CloudEvents says source + id identify it.</summary>
    public static string Key(LogEvent e) => e.Source + "\n" + e.Id;

    /// <summary>
    /// The stream's window, loading it from the log on first use (a failed load is retried by the next request). A
    /// stream deleted and created again (another <see cref="StreamDefinition.CreatedAt"/>) starts a new window.
    /// </summary>
    public async Task<StreamIdWindow> ForStreamAsync(StreamDefinition stream, CancellationToken cancellationToken)
    {
        (DateTimeOffset CreatedAt, Lazy<Task<StreamIdWindow>> Window) entry = windows.AddOrUpdate(
            stream.Name,
            _ => (stream.CreatedAt, new Lazy<Task<StreamIdWindow>>(() => LoadAsync(stream.Name))),
            (_, known) => known.CreatedAt == stream.CreatedAt ? known : (stream.CreatedAt, new Lazy<Task<StreamIdWindow>>(() => LoadAsync(stream.Name))));
        try
        {
            return await entry.Window.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            windows.TryRemove(new KeyValuePair<string, (DateTimeOffset, Lazy<Task<StreamIdWindow>>)>(stream.Name, entry));
            throw;
        }
    }

    /// <summary>The stream was deleted: a new stream of the same name starts with an empty window.</summary>
    public void Forget(string stream) => windows.TryRemove(stream, out _);

    /// <summary>Looks in the log for events written since an uncertain write of <paramref name="since"/> (did it land?).</summary>
    public Task SearchAsync(string stream, StreamIdWindow window, DateTimeOffset since, CancellationToken cancellationToken) =>
        ScanAsync(stream, window, since - UncertainSlack, cancellationToken);

    private async Task<StreamIdWindow> LoadAsync(string stream)
    {
        var window = new StreamIdWindow(options.IngressRepeatWindow, options.IngressRepeatCapacity);
        try
        {
            int found = await ScanAsync(stream, window, time.GetUtcNow() - options.IngressRepeatWindow, CancellationToken.None);
            logger.LogInformation("Ingress: {Count} event ids of the last {Window} in {Stream} loaded; a repeat of one of them is answered with its first position", found, options.IngressRepeatWindow, stream);
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.CorruptData)
        {
            // Retrying cannot help and refusing every post would stop the stream's ingress: go on with what was read.
            logger.LogWarning("Ingress: the recent events of {Stream} cannot be read ({Error}); {Count} ids loaded, repeats of events written before this start may be written again", stream, ex.Message.Split('\n')[0], window.Count);
        }

        return window;
    }

    private async Task<int> ScanAsync(string stream, StreamIdWindow window, DateTimeOffset since, CancellationToken cancellationToken)
    {
        int found = 0;
        foreach (PartitionInfo partition in await log.GetPartitionsAsync(stream, cancellationToken))
        {
            var read = new ReadOptions { From = StartPosition.FromTime(since), StartAtEarliestIfTruncated = true, Deduplicate = false };
            await foreach (StoredEvent e in log.ReadPartitionAsync(stream, partition.Partition, read, cancellationToken))
            {
                window.Remember(Key(e.Event), new EventPosition(e.Partition, e.Offset), e.Timestamp);
                found++;
            }
        }

        return found;
    }
}
