using System.Collections.Concurrent;

namespace FaasEvents.Log.Producer;

/// <summary>One producer per stream, created on first use and shared (ingress, function outputs, injected producers).</summary>
public sealed class EventProducerPool : IAsyncDisposable
{
    private readonly Func<string, EventProducerClient> create;
    private readonly ConcurrentDictionary<string, EventProducerClient> producers = new(StringComparer.Ordinal);

    /// <summary>Creates a pool that makes each stream's producer with <paramref name="create"/> (see <see cref="EventLogClient.CreateProducerPool"/>).</summary>
    public EventProducerPool(Func<string, EventProducerClient> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        this.create = create;
    }

    /// <summary>The producer for <paramref name="stream"/>.</summary>
    public EventProducerClient For(string stream) => producers.GetOrAdd(stream, create);

    /// <summary>Flushes and disposes every producer.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (EventProducerClient p in producers.Values)
        {
            await p.DisposeAsync();
        }
    }
}
