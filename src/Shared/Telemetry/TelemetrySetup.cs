using FaasEvents.Log.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FaasEvents.Hosting.Telemetry;

/// <summary>
/// OpenTelemetry for a FaasEvents host, the same in the server and in function apps: the <see cref="FaasTelemetry.Name"/>
/// meter and activity source, a Prometheus scrape endpoint (<see cref="MapMetrics"/>), and OTLP export of metrics,
/// traces and logs when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the SDK's standard variables apply: headers, protocol,
/// <c>OTEL_SERVICE_NAME</c>, <c>OTEL_TRACES_SAMPLER</c>). Without an OTLP endpoint no span is recorded at all, so an
/// untraced host pays nothing for tracing. Azure Monitor: add <c>Azure.Monitor.OpenTelemetry.AspNetCore</c> and call
/// <c>UseAzureMonitor()</c> on the same builder (docs/observability.md).
/// </summary>
internal static class TelemetrySetup
{
    /// <summary>The environment variable that turns on OTLP export.</summary>
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Registers OpenTelemetry; <paramref name="tracing"/> adds the host's own instrumentation (e.g. ASP.NET Core).</summary>
    /// <returns>What it exports, for the start-up log line.</returns>
    public static string Add(Microsoft.Extensions.DependencyInjection.IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration config, string serviceName, Action<TracerProviderBuilder>? tracing = null)
    {
        bool otlp = !string.IsNullOrWhiteSpace(config[OtlpEndpoint]);
        // Called by full name: the DI and routing namespaces are implicit usings in one host and not the other.
        OpenTelemetryBuilder otel = Microsoft.Extensions.DependencyInjection.OpenTelemetryServicesExtensions.AddOpenTelemetry(services)
            .ConfigureResource(r => r.AddService(config["OTEL_SERVICE_NAME"] ?? serviceName))
            .WithMetrics(m => m.AddMeter(FaasTelemetry.Name).AddPrometheusExporter());
        if (!otlp)
        {
            return "metrics at /metrics (Prometheus); traces off (set OTEL_EXPORTER_OTLP_ENDPOINT to export them)";
        }

        otel.WithTracing(t =>
        {
            t.AddSource(FaasTelemetry.Name);
            tracing?.Invoke(t);
        });
        otel.UseOtlpExporter();
        return $"metrics at /metrics (Prometheus) and OTLP; traces OTLP to {config[OtlpEndpoint]}";
    }

    /// <summary>Serves the metrics in Prometheus' text format at <c>/metrics</c> (behind the host's auth, like every endpoint but health).</summary>
    public static void MapMetrics(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app) =>
        Microsoft.AspNetCore.Builder.PrometheusExporterEndpointRouteBuilderExtensions.MapPrometheusScrapingEndpoint(app, "/metrics");
}
