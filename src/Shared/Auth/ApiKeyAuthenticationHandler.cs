using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace FaasEvents.Hosting.Auth;

/// <summary>
/// Authenticates a request that presents one of the configured API keys in <c>x-api-key</c> or as
/// <c>Authorization: Bearer KEY</c>; a refused request gets a 401 problem naming what to send.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<ApiKeyAuthenticationOptions> options, Microsoft.Extensions.Logging.ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (HttpAuth.PresentedKey(Request) is not { } presented)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        byte[] given = Encoding.UTF8.GetBytes(presented);
        for (int i = 0; i < Options.Keys.Count; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(Options.Keys[i], given))
            {
                var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, i < Options.Names.Count ? Options.Names[i] : "api-key")], Scheme.Name);
                return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
            }
        }

        return Task.FromResult(AuthenticateResult.Fail("the API key presented is not one of the configured keys"));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = 401;
        Response.Headers.WWWAuthenticate = "Bearer";
        Response.ContentType = "application/problem+json";
        await JsonSerializer.SerializeAsync(Response.Body, new { type = "about:blank", title = "Unauthorized", status = 401, detail = Options.Hint }, cancellationToken: Context.RequestAborted);
    }
}
