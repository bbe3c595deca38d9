using System.Collections.Concurrent;
using FaasEvents.Log;
using FaasEvents.Log.Streams;

namespace FaasEvents.Server.Ingress;

/// <summary>
/// Which streams exist, for the ingress: a stream seen to exist is trusted (with its definition) for <see cref="Ttl"/>
/// instead of reading its definition per request; an unknown one is looked up every time (so a new stream is accepted
/// at once), and one found deleted by an append is forgotten.
/// </summary>
internal sealed class KnownStreams(EventLogClient log, TimeProvider time)
{
    /// <summary>How long a stream seen to exist is trusted without asking storage again.</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (StreamDefinition Definition, DateTimeOffset At)> seen = new(StringComparer.Ordinal);

    /// <summary>The stream's definition (as read within <see cref="Ttl"/>), or null if it does not exist.</summary>
    public async Task<StreamDefinition?> FindAsync(string stream, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        if (seen.TryGetValue(stream, out (StreamDefinition Definition, DateTimeOffset At) known) && now - known.At < Ttl)
        {
            return known.Definition;
        }

        return await RefreshAsync(stream, cancellationToken);
    }

    /// <summary>The stream's definition as storage has it now (trusted again for <see cref="Ttl"/>), or null if it does not exist.</summary>
    public async Task<StreamDefinition?> RefreshAsync(string stream, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        if (await log.TryGetStreamAsync(stream, cancellationToken) is not { } definition)
        {
            seen.TryRemove(stream, out _);
            return null;
        }

        seen[stream] = (definition, now);
        return definition;
    }

    /// <summary>The stream was found deleted.</summary>
    public void Forget(string stream) => seen.TryRemove(stream, out _);
}
