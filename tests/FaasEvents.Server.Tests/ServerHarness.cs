using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Server.Scaling.Grpc;
using FaasEvents.TestSupport;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FaasEvents.Server.Tests;

/// <summary>A real server (Kestrel on loopback ports) on the fixture's Azurite.</summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    private readonly WebApplication app;

    private ServerHarness(WebApplication app, int http, int grpc)
    {
        this.app = app;
        HttpPort = http;
        GrpcPort = grpc;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") };
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpc}");
        Scaler = new ExternalScaler.ExternalScalerClient(Channel);
    }

    public int HttpPort { get; }

    public int GrpcPort { get; }

    public HttpClient Http { get; }

    public GrpcChannel Channel { get; }

    public ExternalScaler.ExternalScalerClient Scaler { get; }

    /// <summary>The instances watching streams' appends.</summary>
    public FaasEvents.Server.Scaling.AppendWatchers Watchers => app.Services.GetRequiredService<FaasEvents.Server.Scaling.LagService>().Watchers;

    /// <summary>True once the server's host began shutting down (e.g. a background service failed).</summary>
    public bool Stopping => app.Lifetime.ApplicationStopping.IsCancellationRequested;

    public static Task<ServerHarness> StartAsync(AzuriteFixture azurite, EventLogClient log, params string[] extraArgs) =>
        StartAsync(azurite, log, null, extraArgs);

    /// <summary>A server whose storage clients use <paramref name="storage"/> (e.g. with a fault injector).</summary>
    public static async Task<ServerHarness> StartAsync(AzuriteFixture azurite, EventLogClient log, Azure.Storage.Blobs.BlobClientOptions? storage, params string[] extraArgs)
    {
        for (int attempt = 0; ; attempt++)
        {
            (int http, int grpc) = AzuriteProcess.GetFreePorts(2) is [var h, var g] ? (h, g) : throw new InvalidOperationException("two ports");
            string[] args = ["--http-port", http.ToString(System.Globalization.CultureInfo.InvariantCulture), "--grpc-port", grpc.ToString(System.Globalization.CultureInfo.InvariantCulture), $"--FAAS_STORAGE={azurite.ConnectionString}", $"--FAAS_CONTAINER={log.Container.Name}", "--Logging:LogLevel:Default=Warning", .. extraArgs];
            WebApplication app = ServerApp.Build(args, b =>
            {
                if (storage is not null)
                {
                    b.Services.AddSingleton(storage);
                }
            });
            try
            {
                await app.StartAsync();
                return new ServerHarness(app, http, grpc);
            }
            catch (IOException) when (attempt < 3)
            {
                await app.DisposeAsync(); // a free port was taken by another test's server or Azurite in the meantime
            }
        }
    }

    public static ScaledObjectRef Ref(params (string Key, string Value)[] metadata)
    {
        var r = new ScaledObjectRef { Name = "app", Namespace = "default" };
        foreach ((string k, string v) in metadata)
        {
            r.ScalerMetadata[k] = v;
        }

        return r;
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
