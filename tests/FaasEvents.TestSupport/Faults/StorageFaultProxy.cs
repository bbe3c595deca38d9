using System.Net;
using System.Text;
using FaasEvents.DevStorage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FaasEvents.TestSupport.Faults;

/// <summary>
/// A loopback HTTP proxy in front of a local Azurite that injects storage faults by rate (<see cref="Faults"/>), for
/// faults against other processes (function apps, the CLI), which the in-process <see cref="StorageFaultInjector"/>
/// cannot reach. A dropped response or a reset aborts the client's connection, as a network fault would.
/// </summary>
public sealed class StorageFaultProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase) { "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Expect", "Content-Length" };
    private readonly WebApplication app;
    private readonly HttpClient client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Uri target;
    private long requests;

    private StorageFaultProxy(WebApplication app, int targetPort, int seed)
    {
        this.app = app;
        target = new Uri($"http://127.0.0.1:{targetPort}");
        Faults = new FaultMix(seed);
    }

    /// <summary>Random faults by rate (off until <see cref="FaultMix.Rate"/> is set).</summary>
    public FaultMix Faults { get; }

    /// <summary>How long a <see cref="FaultKind.Delay"/> holds a request.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>The proxy's port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>A connection string to Azurite through the proxy.</summary>
    public string ConnectionString => AzuriteProcess.GetConnectionString(Port);

    /// <summary>Requests seen so far.</summary>
    public long Requests => Interlocked.Read(ref requests);

    /// <summary>Starts a proxy to Azurite on <paramref name="targetPort"/>.</summary>
    public static async Task<StorageFaultProxy> StartAsync(int targetPort, int seed = 1)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0);
            o.Limits.MaxRequestBodySize = null;
        });
        WebApplication app = builder.Build();
        var proxy = new StorageFaultProxy(app, targetPort, seed);
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        proxy.Port = new Uri(address).Port;
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        client.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref requests);
        HttpRequest request = context.Request;
        string operation = StorageOperation.Of(request.Method, request.QueryString.Value ?? "", request.Headers["x-ms-lease-action"].FirstOrDefault());
        FaultKind? fault = Faults.Roll(StorageOperation.IsWrite(request.Method));
        if (fault is { } f)
        {
            Faults.Count(operation, f.ToString());
        }

        switch (fault)
        {
            case FaultKind.Refuse503:
                await WriteErrorAsync(context, 503, "ServerBusy");
                return;
            case FaultKind.ResetBeforeSend:
                context.Abort();
                return;
            case FaultKind.Delay:
                await Task.Delay(Delay, context.RequestAborted);
                break;
        }

        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, context.RequestAborted);
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(target, request.Path.Value + request.QueryString.Value))
        {
            Content = new ByteArrayContent(body.ToArray()),
        };
        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in request.Headers)
        {
            if (!HopByHop.Contains(name) && !forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                forward.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        using HttpResponseMessage response = await client.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, CancellationToken.None);
        if (fault == FaultKind.DropResponse)
        {
            context.Abort(); // it happened; the caller cannot know
            return;
        }

        if (fault == FaultKind.ForwardThen500)
        {
            await WriteErrorAsync(context, 500, "InternalError");
            return;
        }

        context.Response.StatusCode = (int)response.StatusCode;
        foreach (KeyValuePair<string, IEnumerable<string>> h in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(h.Key))
            {
                context.Response.Headers[h.Key] = h.Value.ToArray();
            }
        }

        context.Response.ContentLength = response.Content.Headers.ContentLength;
        if (request.Method != "HEAD")
        {
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string code)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/xml";
        context.Response.Headers["x-ms-error-code"] = code;
        await context.Response.WriteAsync($"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>Injected by the fault proxy.</Message></Error>", Encoding.UTF8);
    }
}
