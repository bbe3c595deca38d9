using System.Collections.Concurrent;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;

namespace FaasEvents.Functions.Storage.Blob;

/// <summary>Appends a function's writes with one shared producer per storage and stream (no linger: an invocation waits for its outputs).</summary>
internal sealed class BlobOutputSink(EventLogClient log, Func<string, EventLogClient> clientFor) : IOutputSink
{
    private readonly ConcurrentDictionary<EventLogClient, EventProducerPool> pools = new();

    public Task AppendAsync(string? connection, string stream, IReadOnlyList<LogEvent> events, IReadOnlyList<WriterMark>? marks, CancellationToken cancellationToken)
    {
        EventProducerClient producer = Producer(connection is null ? log : clientFor(connection), stream);
        return marks is null ? producer.SendBatchAsync(events, cancellationToken) : producer.SendSequencedAsync(events, marks, cancellationToken);
    }

    public Task CheckAsync(string? connection, string stream, IReadOnlyList<LogEvent> events, CancellationToken cancellationToken) =>
        Producer(connection is null ? log : clientFor(connection), stream).CheckAsync(events, cancellationToken);

    public async Task EnsureStreamAsync(string stream, CancellationToken cancellationToken)
    {
        if (await log.TryGetStreamAsync(stream, cancellationToken) is not null)
        {
            return;
        }

        try
        {
            await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 1 }, cancellationToken);
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.StreamAlreadyExists)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (EventProducerPool pool in pools.Values)
        {
            await pool.DisposeAsync();
        }
    }

    private EventProducerClient Producer(EventLogClient client, string stream) =>
        pools.GetOrAdd(client, c => c.CreateProducerPool(new EventProducerOptions { Linger = TimeSpan.Zero })).For(stream);
}
