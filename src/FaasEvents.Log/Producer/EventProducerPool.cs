using System.Collections.Concurrent;

namespace FaasEvents.Log.Producer;

/// <summary>One producer per stream, created on first use and shared (ingress, function outputs, injected producers).</summary>
public sealed class EventProducerPool : IAsyncDisposable
{
    private readonly EventLogClient log;
    private readonly EventProducerOptions? options;
    private readonly ConcurrentDictionary<string, EventProducerClient> producers = new(StringComparer.Ordinal);

    /// <summary>Creates a pool over <paramref name="log"/>; every producer gets <paramref name="options"/>.</summary>
    public EventProducerPool(EventLogClient log, EventProducerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        this.log = log;
        this.options = options;
    }

    /// <summary>The producer for <paramref name="stream"/>.</summary>
    public EventProducerClient For(string stream) => producers.GetOrAdd(stream, s => log.CreateProducer(s, options));

    /// <summary>Flushes and disposes every producer.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (EventProducerClient p in producers.Values)
        {
            await p.DisposeAsync();
        }
    }
}
