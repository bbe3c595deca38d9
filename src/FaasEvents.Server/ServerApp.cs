using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using FaasEvents.Hosting.Auth;
using FaasEvents.Hosting.Telemetry;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Admin;
using FaasEvents.Server.Browse;
using FaasEvents.Server.WebConsole;
using FaasEvents.Server.Ingress;
using FaasEvents.Server.Scaling;
using FaasEvents.Server.Sources;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using OpenTelemetry.Trace;

namespace FaasEvents.Server;

/// <summary>Builds the control plane: KEDA scaler (gRPC), ingress, ping sources, admin API, metrics.</summary>
public static class ServerApp
{
    /// <summary>
    /// Builds the server from arguments (<c>--http-port</c>, <c>--grpc-port</c>, plus ASP.NET configuration) and the
    /// environment (<c>FAAS_STORAGE</c>, <c>FAAS_CONTAINER</c>, <c>FAAS_HTTP_PORT</c>, <c>FAAS_GRPC_PORT</c>,
    /// <c>FAAS_GRPC_TLS_CERT</c>/<c>FAAS_GRPC_TLS_KEY</c>, <c>FAAS_API_KEYS</c>, <c>FAAS_AUTH_JWT_AUTHORITY</c>, <c>FAAS_COMPACTION_INTERVAL</c>).
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var rest = new List<string>();
        int? httpPort = null, grpcPort = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--http-port" when i + 1 < args.Length: httpPort = Port(args[++i], "--http-port"); break;
                case "--grpc-port" when i + 1 < args.Length: grpcPort = Port(args[++i], "--grpc-port"); break;
                default: rest.Add(args[i]); break;
            }
        }

        WebApplicationBuilder builder = WebApplication.CreateBuilder(rest.ToArray());
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        IConfiguration config = builder.Configuration;
        ServerOptions options = ServerOptions.Read(config, httpPort, grpcPort);
        if (options.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join(" ", problems));
        }

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            // HTTP/1.1: without TLS Kestrel cannot offer HTTP/2 on a shared port anyway (it fell back with a warning at every start).
            k.ListenAnyIP(options.HttpPort, l => l.Protocols = HttpProtocols.Http1);
            k.ListenAnyIP(options.GrpcPort, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                if (options.GrpcTlsCertificate is not null)
                {
                    X509Certificate2 serverCert = X509Certificate2.CreateFromPemFile(options.GrpcTlsCertificate, options.GrpcTlsKey);
                    l.UseHttps(https =>
                    {
                        https.ServerCertificate = serverCert;
                        if (options.GrpcTlsClientCa is not null)
                        {
                            X509Certificate2 ca = X509Certificate2.CreateFromPem(File.ReadAllText(options.GrpcTlsClientCa)); // certificate only, no key
                            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                            https.ClientCertificateValidation = (cert, _, _) => ChainsTo(cert, ca);
                        }
                    });
                }
            });
        });

        var logOptions = new EventLogClientOptions();
        if (config[FaasSettings.Container] is { Length: > 0 } container)
        {
            logOptions.ContainerName = container;
        }

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        // A registered BlobClientOptions (retries, transport) configures the server's storage clients.
        builder.Services.AddSingleton(sp =>
        {
            logOptions.StorageOptions = sp.GetService<Azure.Storage.Blobs.BlobClientOptions>() ?? logOptions.StorageOptions;
            return EventLogClient.FromSetting(config[FaasSettings.Storage], logOptions);
        });
        builder.Services.AddSingleton<LagService>();
        builder.Services.AddSingleton<ScaledObjectRegistry>();
        builder.Services.AddSingleton<FaasEvents.Server.Ingress.KnownStreams>();
        builder.Services.AddSingleton<FaasEvents.Server.Ingress.RecentEventIds>();
        builder.Services.AddSingleton<FaasEvents.Server.Ingress.IngressProducers>();
        builder.Services.AddSingleton<FaasEvents.Server.Ingress.IngressWriter>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<EventLogClient>().CreateProducerPool(new EventProducerOptions { Linger = TimeSpan.FromMilliseconds(1) }));
        builder.Services.AddHostedService<PingSourceService>();
        builder.Services.AddSingleton<FaasEvents.Server.Compaction.CompactionService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FaasEvents.Server.Compaction.CompactionService>());
        builder.Services.AddSingleton<FaasEvents.Server.Maintenance.RetentionService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FaasEvents.Server.Maintenance.RetentionService>());
        string auth = HttpAuth.Add(builder.Services, options.ApiKeys, config);
        string telemetry = TelemetrySetup.Add(builder.Services, config, "faas-server", t => t.AddAspNetCoreInstrumentation(o => o.Filter = IsTraced));
        builder.Services.AddGrpc(o => o.Interceptors.Add<ScalerErrorInterceptor>());
        builder.Services.AddProblemDetails();
        configure?.Invoke(builder);

        WebApplication app = builder.Build();
        app.MapGrpcService<ExternalScalerService>().RequireHost($"*:{options.GrpcPort}").AllowAnonymous(); // KEDA authenticates with TLS / mutual TLS
        app.MapIngress();
        app.MapAppendNotices();
        app.MapGroups();
        app.MapState();
        app.MapContracts();
        app.MapDeadLetters();
        app.MapEventBrowser();
        app.MapConsole();
        MapAdmin(app);
        app.Logger.LogInformation("FaasEvents server: HTTP :{Http} (ingress, admin, /metrics; auth {Auth}), gRPC scaler :{Grpc} ({Tls}); storage {Storage}; telemetry: {Telemetry}", options.HttpPort, auth, options.GrpcPort, options.GrpcTlsCertificate is null ? "h2c" : options.GrpcTlsClientCa is null ? "TLS" : "mutual TLS", app.Services.GetRequiredService<EventLogClient>().StorageDescription, telemetry);
        return app;
    }

    private static void MapAdmin(WebApplication app)
    {
        app.MapGet("/healthz", async (EventLogClient log, CancellationToken ct) =>
        {
            try
            {
                await log.Container.ExistsAsync(ct);
                return Results.Json(new { status = "healthy", storage = log.StorageDescription });
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return Results.Json(new { status = "unhealthy", storage = log.StorageDescription, error = ex.Message.Split('\n')[0] }, statusCode: 503);
            }
        }).AllowAnonymous();
        app.MapGet("/streams", async (EventLogClient log, CancellationToken ct) =>
        {
            var list = new List<object>();
            await foreach (StreamDefinition def in log.ListStreamsAsync(ct))
            {
                IReadOnlyList<PartitionInfo> parts = await log.GetPartitionsAsync(def.Name, ct);
                list.Add(new { name = def.Name, partitions = def.Partitions, kind = def.Kind == StreamKind.Entities ? "entities" : "events", retention = def.Retention.ToString(), events = parts.Sum(p => p.RetainedEvents), bytes = parts.Sum(p => p.Bytes), endOffsets = parts.Select(p => p.EndOffset) });
            }

            return Results.Json(list);
        });
        app.MapGet("/streams/{stream}", async (string stream, EventLogClient log, CancellationToken ct) =>
        {
            try
            {
                StreamDefinition def = await log.GetStreamAsync(stream, ct);
                IReadOnlyList<PartitionInfo> parts = await log.GetPartitionsAsync(def.Name, ct);
                IReadOnlyList<StreamPass> passes = await log.GetLastPassesAsync(def.Name, ct);
                return Results.Json(new
                {
                    name = def.Name,
                    kind = def.Kind == StreamKind.Entities ? "entities" : "events",
                    partitions = def.Partitions,
                    retention = def.Retention.ToString(),
                    createdAt = def.CreatedAt,
                    partitionInfo = parts.Select(p => new { partition = p.Partition, earliestOffset = p.EarliestOffset, endOffset = p.EndOffset, segments = p.Segments, bytes = p.Bytes, lastAppend = p.LastAppend }),
                    lastPasses = passes.Select(p => new { kind = p.Kind, at = p.At, segments = p.Segments, events = p.Events, bytes = p.Bytes, error = p.Error }),
                });
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.StreamNotFound)
            {
                return IngressEndpoints.Problem(404, "Stream not found", ex.Message);
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.InvalidArgument)
            {
                return IngressEndpoints.Problem(400, "Invalid name", ex.Message);
            }
        });
        app.MapGet("/scaledobjects", (ScaledObjectRegistry registry) => Results.Json(registry.List()));
        app.MapGet("/streams/{stream}/groups/{group}/lag", async (string stream, string group, string? initialOffset, string? consumption, LagService lag, CancellationToken ct) =>
        {
            try
            {
                InitialOffset from = initialOffset == "latest" ? InitialOffset.Latest : InitialOffset.Earliest;
                if (consumption is not (null or "stream" or "queue"))
                {
                    return IngressEndpoints.Problem(400, "Invalid consumption", $"consumption '{consumption}' must be 'stream' or 'queue'.");
                }

                LagReport r = await lag.GetLagAsync(stream, group, from, consumption == "queue", ct);
                return Results.Json(new { stream, group, consumption = consumption ?? "stream", totalLag = r.TotalLag, partitions = r.Partitions.Select(p => new { partition = p.Partition, earliestOffset = p.EarliestOffset, endOffset = p.EndOffset, checkpoint = p.Checkpoint, lag = p.Lag }) });
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.StreamNotFound)
            {
                return IngressEndpoints.Problem(404, "Stream not found", ex.Message);
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.InvalidArgument)
            {
                return IngressEndpoints.Problem(400, "Invalid name", ex.Message);
            }
        });
        TelemetrySetup.MapMetrics(app);
    }

    /// <summary>
    /// Requests worth a trace: ingress and admin calls. Not KEDA's polls (gRPC), health and metrics scrapes, or the
    /// append notices and their watchers (many a second, each a trace of its own otherwise).
    /// </summary>
    private static bool IsTraced(HttpContext http)
    {
        string path = http.Request.Path.Value ?? "";
        return !(http.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true
            || path is "/healthz" or "/metrics"
            || path.EndsWith("/appended", StringComparison.Ordinal)
            || path.EndsWith("/appends", StringComparison.Ordinal));
    }

    private static bool ChainsTo(X509Certificate2 client, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(client);
    }

    private static int Port(string value, string name) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is >= 0 and <= 65535
            ? p
            : throw new ArgumentException($"{name}: '{value}' is not a port number (0-65535).");
}
