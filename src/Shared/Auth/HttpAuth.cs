using System.Net;
using FaasEvents.Log;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;

namespace FaasEvents.Hosting.Auth;

/// <summary>
/// The one auth scheme of every FaasEvents HTTP surface (the server's ingress and admin API, a function app's state
/// queries and metrics): an API key (<c>FAAS_API_KEYS</c>) or, where configured, an Entra ID / OpenID Connect access
/// token (<c>FAAS_AUTH_JWT_AUTHORITY</c>, <c>FAAS_AUTH_JWT_AUDIENCE</c>). When either is configured every endpoint
/// requires it except those marked anonymous (health); when neither is, nothing is required (local development).
/// </summary>
internal static class HttpAuth
{
    public const string Scheme = "faas";
    public const string ApiKeyScheme = "faas-api-key";

    /// <summary>
    /// Registers authentication and a fallback policy requiring it: <paramref name="keys"/>, and an access-token issuer
    /// from <paramref name="configuration"/> if one is set. When neither is, nothing is registered and every endpoint
    /// stays open. Returns what a start-up log line should say; a half-configured issuer throws, naming the setting and the fix.
    /// </summary>
    public static string Add(Microsoft.Extensions.DependencyInjection.IServiceCollection services, IReadOnlyList<string> keys, Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        string? authority = Trimmed(configuration[FaasSettings.AuthJwtAuthority]);
        string? audience = Trimmed(configuration[FaasSettings.AuthJwtAudience]);
        if (keys.Count == 0 && authority is null)
        {
            return $"off (set {FaasSettings.ApiKeys} or {FaasSettings.AuthJwtAuthority} to require credentials)";
        }

        if (authority is not null && audience is null)
        {
            throw new InvalidOperationException($"{FaasSettings.AuthJwtAuthority} is set but {FaasSettings.AuthJwtAudience} is not: set it to the application ID URI (or client id) tokens must be issued for, e.g. api://faasevents.");
        }

        if (authority is not null && !Uri.TryCreate(authority, UriKind.Absolute, out _))
        {
            throw new InvalidOperationException($"{FaasSettings.AuthJwtAuthority} '{authority}' is not an absolute address: use the issuer, e.g. https://login.microsoftonline.com/<tenant-id>/v2.0.");
        }

        string hint = "Send a valid API key in the 'x-api-key' header or as 'Authorization: Bearer <key>'"
            + (authority is null ? "." : $", or an access token from {authority} for audience {audience}.");
        AddSchemes(services, keys, authority, audience, hint);
        Microsoft.Extensions.DependencyInjection.PolicyServiceCollectionExtensions.AddAuthorization(services, o => o.FallbackPolicy = new AuthorizationPolicyBuilder(Scheme).RequireAuthenticatedUser().Build());
        return $"{keys.Count} API key(s)" + (authority is null ? "" : $" and access tokens from {authority}");
    }

    /// <summary>The API key a request presents (<c>x-api-key</c>, else a bearer token that is not a JWT), or null.</summary>
    public static string? PresentedKey(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        string? key = request.Headers["x-api-key"].FirstOrDefault();
        if (!string.IsNullOrWhiteSpace(key))
        {
            return key.Trim();
        }

        return BearerToken(request) is { } token && !LooksLikeJwt(token) ? token : null;
    }

    private static void AddSchemes(Microsoft.Extensions.DependencyInjection.IServiceCollection services, IReadOnlyList<string> keys, string? authority, string? audience, string hint)
    {
        var builder = Microsoft.Extensions.DependencyInjection.AuthenticationServiceCollectionExtensions.AddAuthentication(services, Scheme)
            .AddPolicyScheme(Scheme, "API key or access token", o => o.ForwardDefaultSelector = context =>
                authority is not null && string.IsNullOrEmpty(context.Request.Headers["x-api-key"]) && BearerToken(context.Request) is { } token && LooksLikeJwt(token)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : ApiKeyScheme)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme, o =>
            {
                o.Keys = keys.Select(k => System.Text.Encoding.UTF8.GetBytes(ApiKeyAuthenticationOptions.Split(k).Key)).ToList();
                o.Names = keys.Select(k => ApiKeyAuthenticationOptions.Split(k).Name).ToList();
                o.Hint = hint;
            });
        if (authority is not null)
        {
            Microsoft.Extensions.DependencyInjection.JwtBearerExtensions.AddJwtBearer(builder, o =>
            {
                o.Authority = authority;
                o.Audience = audience;
                o.MapInboundClaims = false;
                // Metadata over plain http only from this machine (a test or local identity provider), never across a network.
                o.RequireHttpsMetadata = !IsLoopback(new Uri(authority));
            });
        }
    }

    private static string? BearerToken(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        string auth = request.Headers.Authorization.ToString();
        return auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && auth[7..].Trim() is { Length: > 0 } token ? token : null;
    }

    private static bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2;

    private static bool IsLoopback(Uri uri) => uri.IsLoopback || (IPAddress.TryParse(uri.Host, out IPAddress? ip) && IPAddress.IsLoopback(ip));

    private static string? Trimmed(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
