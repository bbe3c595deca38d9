using System.Collections.Concurrent;
using FaasEvents.Log;

namespace FaasEvents.Server.Ingress;

/// <summary>
/// Which streams exist, for the ingress: a stream seen to exist is trusted for <see cref="Ttl"/> instead of reading
/// its definition per request; an unknown one is looked up every time (so a new stream is accepted at once), and one
/// found deleted by an append is forgotten.
/// </summary>
internal sealed class KnownStreams(EventLogClient log, TimeProvider time)
{
    /// <summary>How long a stream seen to exist is trusted without asking storage again.</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, DateTimeOffset> seen = new(StringComparer.Ordinal);

    /// <summary>True if the stream exists (or did within <see cref="Ttl"/>).</summary>
    public async Task<bool> ExistsAsync(string stream, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        if (seen.TryGetValue(stream, out DateTimeOffset at) && now - at < Ttl)
        {
            return true;
        }

        if (await log.TryGetStreamAsync(stream, cancellationToken) is null)
        {
            seen.TryRemove(stream, out _);
            return false;
        }

        seen[stream] = now;
        return true;
    }

    /// <summary>The stream was found deleted.</summary>
    public void Forget(string stream) => seen.TryRemove(stream, out _);
}
