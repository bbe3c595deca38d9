using System.Collections.Concurrent;
using System.Security.Claims;
using FaasEvents.Log;
using FaasEvents.Log.Producer;

namespace FaasEvents.Server.Ingress;

/// <summary>
/// The ingress's producers, one pool per caller identity: events posted by an authenticated caller are appended as
/// that caller (a named API key's name; an Entra ID token's app, <c>azp</c>/<c>appid</c>, else its <c>oid</c> or
/// subject), so a stream's single-writer rule holds at this door too. Unauthenticated calls (no auth configured) use
/// the server's own producers (its <c>FAAS_IDENTITY</c>, if any).
/// </summary>
internal sealed class IngressProducers(EventLogClient log, EventProducerPool shared) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, EventProducerPool> byIdentity = new(StringComparer.Ordinal);

    /// <summary>The identity a request appends as (null: unauthenticated).</summary>
    public static string? IdentityOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity is not { IsAuthenticated: true } identity)
        {
            return null;
        }

        return user.FindFirst("azp")?.Value ?? user.FindFirst("appid")?.Value ?? user.FindFirst("oid")?.Value
            ?? identity.Name ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? user.FindFirst("sub")?.Value;
    }

    /// <summary>The producer of <paramref name="stream"/> for <paramref name="identity"/>.</summary>
    public EventProducerClient For(string stream, string? identity) =>
        identity is null ? shared.For(stream) : byIdentity.GetOrAdd(identity, id => log.CreateProducerPool(new EventProducerOptions { Linger = TimeSpan.FromMilliseconds(1), Identity = id })).For(stream);

    public async ValueTask DisposeAsync()
    {
        foreach (EventProducerPool pool in byIdentity.Values)
        {
            await pool.DisposeAsync();
        }
    }
}
