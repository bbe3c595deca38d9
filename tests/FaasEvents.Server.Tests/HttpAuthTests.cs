using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling.Grpc;
using FaasEvents.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FaasEvents.Server.Tests;

/// <summary>
/// One auth scheme on every HTTP surface of the server: with keys (or an access-token issuer) configured, the admin
/// API, lag, ingress, append notices and metrics all refuse a caller without credentials; health stays open and the
/// gRPC scaler keeps its own protection (TLS / mutual TLS).
/// </summary>
public class HttpAuthTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly (HttpMethod Method, string Path, string? Body)[] Endpoints =
    [
        (HttpMethod.Get, "/streams", null),
        (HttpMethod.Get, "/streams/guarded/groups/g1/lag", null),
        (HttpMethod.Post, "/streams/guarded/events", """{"specversion":"1.0","id":"e1","source":"/tests","type":"t","data":{"n":1}}"""),
        (HttpMethod.Post, "/streams/guarded/appended", """[{"partition":0,"offset":0}]"""),
        (HttpMethod.Get, "/streams/guarded/appends", null),
        (HttpMethod.Get, "/metrics", null),
        (HttpMethod.Get, "/groups", null),
        (HttpMethod.Post, "/streams/guarded/groups/g1/reset", """{"to":"earliest","dryRun":true}"""),
    ];

    [Fact]
    public async Task Every_endpoint_but_health_refuses_a_caller_without_a_key()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "guarded" });
        await log.Checkpoints.UpdateAsync("g1", "guarded", 0, 0);
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_API_KEYS=key-one, key-two");

        foreach ((HttpMethod method, string path, string? body) in Endpoints)
        {
            (HttpStatusCode anonymous, string detail) = await CallAsync(server.Http, method, path, body, _ => { });
            Assert.True(anonymous == HttpStatusCode.Unauthorized, $"{method} {path} without a key answered {(int)anonymous}");
            Assert.Contains("x-api-key", detail, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Unauthorized, (await CallAsync(server.Http, method, path, body, r => r.Headers.Add("x-api-key", "key-three"))).Status);
            HttpStatusCode withKey = (await CallAsync(server.Http, method, path, body, r => r.Headers.Add("x-api-key", "key-two"))).Status;
            Assert.True((int)withKey is >= 200 and < 300, $"{method} {path} with a key answered {(int)withKey}");
            HttpStatusCode withBearer = (await CallAsync(server.Http, method, path, body, r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "key-one"))).Status;
            Assert.True((int)withBearer is >= 200 and < 300, $"{method} {path} with a bearer key answered {(int)withBearer}");
        }

        Assert.Equal(HttpStatusCode.OK, (await CallAsync(server.Http, HttpMethod.Get, "/healthz", null, _ => { })).Status);
        IsActiveResponse active = await server.Scaler.IsActiveAsync(ServerHarness.Ref(("stream", "guarded"), ("consumerGroup", "g1")));
        Assert.NotNull(active); // the scaler port is not behind the HTTP keys (KEDA authenticates to it with TLS)
    }

    [Fact]
    public async Task The_older_ingress_setting_now_guards_every_endpoint_too()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "guarded" });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_INGRESS_API_KEYS=old-key");

        Assert.Equal(HttpStatusCode.Unauthorized, (await CallAsync(server.Http, HttpMethod.Get, "/streams", null, _ => { })).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(server.Http, HttpMethod.Get, "/streams", null, r => r.Headers.Add("x-api-key", "old-key"))).Status);
    }

    [Fact]
    public async Task An_access_token_from_the_configured_issuer_is_accepted_beside_the_keys()
    {
        using RSA rsa = RSA.Create(2048);
        var signingKey = new RsaSecurityKey(rsa) { KeyId = "test-key" };
        await using WebApplication issuer = await StartIssuerAsync(rsa);
        string authority = issuer.Urls.Single();
        const string audience = "api://faasevents-tests";

        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "guarded" });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_API_KEYS=key-one", $"--FAAS_AUTH_JWT_AUTHORITY={authority}", $"--FAAS_AUTH_JWT_AUDIENCE={audience}");

        string Token(string aud, DateTime expires, SecurityKey key) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = authority,
            Audience = aud,
            NotBefore = expires.AddHours(-1),
            IssuedAt = expires.AddHours(-1),
            Expires = expires,
            Subject = new ClaimsIdentity([new Claim("sub", "ops-pipeline")]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });

        Task<(HttpStatusCode Status, string Body)> WithToken(string token) =>
            CallAsync(server.Http, HttpMethod.Get, "/streams", null, r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));

        Assert.Equal(HttpStatusCode.OK, (await WithToken(Token(audience, DateTime.UtcNow.AddMinutes(10), signingKey))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithToken(Token("api://someone-else", DateTime.UtcNow.AddMinutes(10), signingKey))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithToken(Token(audience, DateTime.UtcNow.AddMinutes(-10), signingKey))).Status);
        using RSA other = RSA.Create(2048);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithToken(Token(audience, DateTime.UtcNow.AddMinutes(10), new RsaSecurityKey(other) { KeyId = "test-key" }))).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(server.Http, HttpMethod.Get, "/streams", null, r => r.Headers.Add("x-api-key", "key-one"))).Status);
        (HttpStatusCode anonymous, string detail) = await CallAsync(server.Http, HttpMethod.Get, "/streams", null, _ => { });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        Assert.Contains(authority, detail, StringComparison.Ordinal); // the refusal names the issuer to get a token from
    }

    [Fact]
    public void An_issuer_without_an_audience_is_refused_at_start_naming_the_setting()
    {
        EventLogClient log = azurite.CreateClient();
        var ex = Assert.ThrowsAny<Exception>(() => ServerApp.Build([$"--FAAS_STORAGE={azurite.ConnectionString}", $"--FAAS_CONTAINER={log.Container.Name}", "--FAAS_AUTH_JWT_AUTHORITY=https://login.microsoftonline.com/tenant/v2.0"]));
        Assert.Contains("FAAS_AUTH_JWT_AUDIENCE", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A minimal OpenID Connect issuer on loopback: discovery document and signing keys, as Entra ID serves them.</summary>
    private static async Task<WebApplication> StartIssuerAsync(RSA rsa)
    {
        int port = AzuriteProcess.GetFreePorts(1)[0];
        string self = $"http://127.0.0.1:{port}";
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(self);
        WebApplication app = builder.Build();
        RSAParameters p = rsa.ExportParameters(includePrivateParameters: false);
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new { issuer = self, jwks_uri = $"{self}/keys", id_token_signing_alg_values_supported = new[] { "RS256" } }));
        app.MapGet("/keys", () => Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", kid = "test-key", alg = "RS256", n = Base64UrlEncoder.Encode(p.Modulus), e = Base64UrlEncoder.Encode(p.Exponent) } } }));
        await app.StartAsync();
        return app;
    }

    private static async Task<(HttpStatusCode Status, string Body)> CallAsync(HttpClient http, HttpMethod method, string path, string? body, Action<HttpRequestMessage> authorize)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, path.EndsWith("/events", StringComparison.Ordinal) ? "application/cloudevents+json" : "application/json");
        }

        authorize(request);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        if (path.EndsWith("/appends", StringComparison.Ordinal) && response.IsSuccessStatusCode)
        {
            return (response.StatusCode, ""); // a watch streams until the server stops: the status is the answer
        }

        return (response.StatusCode, await response.Content.ReadAsStringAsync(cts.Token));
    }
}
