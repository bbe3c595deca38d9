using System.Globalization;
using FaasEvents.Log;

namespace FaasEvents.Server;

/// <summary>
/// Settings of the control plane, read from the <c>FAAS_*</c> settings (<see cref="FaasSettings"/>: environment
/// variables or any ASP.NET configuration source) by <see cref="Read"/> and checked by <see cref="Validate"/>.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>HTTP port for ingress, admin and metrics (<c>--http-port</c>, <c>FAAS_HTTP_PORT</c>). <value>Default: 8080.</value></summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>gRPC port for the KEDA scaler, HTTP/2 (<c>--grpc-port</c>, <c>FAAS_GRPC_PORT</c>). <value>Default: 6000.</value></summary>
    public int GrpcPort { get; set; } = 6000;

    /// <summary>PEM certificate for TLS on the gRPC port (<c>FAAS_GRPC_TLS_CERT</c>); cleartext HTTP/2 when unset.</summary>
    public string? GrpcTlsCertificate { get; set; }

    /// <summary>PEM private key for <see cref="GrpcTlsCertificate"/> (<c>FAAS_GRPC_TLS_KEY</c>).</summary>
    public string? GrpcTlsKey { get; set; }

    /// <summary>
    /// PEM CA certificate (<c>FAAS_GRPC_TLS_CLIENT_CA</c>): when set with TLS, the gRPC port requires a client certificate
    /// issued by this CA (mutual TLS, as KEDA's TriggerAuthentication <c>tlsClientCert</c> presents).
    /// </summary>
    public string? GrpcTlsClientCa { get; set; }

    /// <summary>How long computed end offsets and checkpoints are reused across calls. <value>Default: 500 ms.</value></summary>
    public TimeSpan LagCacheDuration { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long a lag reading may be reused for a stream that has not changed (<c>FAAS_LAG_IDLE_MAX</c>, a TimeSpan):
    /// each storage read that finds the stream's ends unchanged doubles the reuse period from
    /// <see cref="LagCacheDuration"/> up to this, and any change (or an append through this server) resets it. Events
    /// from direct producers into a stream idle that long are noticed within this bound; ingress and ping appends at
    /// once. A group with lag has its checkpoints read every <see cref="LagCacheDuration"/> regardless.
    /// <value>Default: 2 minutes (a stream at zero instances then costs about $0.008 a day in listings).</value>
    /// </summary>
    public TimeSpan LagIdleCacheMax { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How often StreamIsActive re-checks lag when no ingress append signals it (direct producers): with the cache,
    /// lag is noticed within about a second. <value>Default: 400 ms.</value>
    /// </summary>
    public TimeSpan ActivePollInterval { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>API keys every HTTP endpoint but health requires (<c>FAAS_API_KEYS</c> and the older <c>FAAS_INGRESS_API_KEYS</c>, comma-separated); empty and no token issuer = no auth.</summary>
    public IReadOnlyList<string> ApiKeys { get; set; } = [];

    /// <summary>
    /// How long the ingress recognises an event posted again (same CloudEvents source and id in the same stream) and
    /// answers with the first copy's position instead of appending it again (<c>FAAS_INGRESS_REPEAT_WINDOW</c>).
    /// Zero turns it off. <value>Default: 10 minutes; at most a day.</value>
    /// </summary>
    public TimeSpan IngressRepeatWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many recent event ids the ingress keeps per stream for <see cref="IngressRepeatWindow"/> (the oldest go first). <value>Default: 100,000.</value></summary>
    public int IngressRepeatCapacity { get; set; } = 100_000;

    /// <summary>Largest ingress request body. <value>Default: 4 MiB.</value></summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;
    /// <summary>
    /// Reads the options from configuration (environment variables included) under their <see cref="FaasSettings"/>
    /// names; <paramref name="httpPort"/> and <paramref name="grpcPort"/> (command line) win over configuration. A
    /// value that cannot be read at all throws naming the setting; ranges and combinations are <see cref="Validate"/>'s.
    /// </summary>
    public static ServerOptions Read(IConfiguration configuration, int? httpPort = null, int? grpcPort = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new ServerOptions
        {
            HttpPort = httpPort ?? Int(configuration, FaasSettings.HttpPort) ?? 8080,
            GrpcPort = grpcPort ?? Int(configuration, FaasSettings.GrpcPort) ?? 6000,
            GrpcTlsCertificate = NonEmpty(configuration[FaasSettings.GrpcTlsCertificate]),
            GrpcTlsKey = NonEmpty(configuration[FaasSettings.GrpcTlsKey]),
            GrpcTlsClientCa = NonEmpty(configuration[FaasSettings.GrpcTlsClientCa]),
            ApiKeys = [.. FaasSettings.ParseApiKeys(configuration[FaasSettings.ApiKeys]).Concat(FaasSettings.ParseApiKeys(configuration[FaasSettings.IngressApiKeys])).Distinct(StringComparer.Ordinal)],
        };
        if (NonEmpty(configuration[FaasSettings.LagCacheMilliseconds]) is { } cache)
        {
            options.LagCacheDuration = double.TryParse(cache, NumberStyles.Float, CultureInfo.InvariantCulture, out double ms)
                ? TimeSpan.FromMilliseconds(ms)
                : throw new ArgumentException($"{FaasSettings.LagCacheMilliseconds}: '{cache}' is not a number of milliseconds.");
        }

        if (NonEmpty(configuration[FaasSettings.LagIdleMax]) is { } idle)
        {
            options.LagIdleCacheMax = TimeSpan.TryParse(idle, CultureInfo.InvariantCulture, out TimeSpan span)
                ? span
                : throw new ArgumentException($"{FaasSettings.LagIdleMax}: '{idle}' is not a TimeSpan such as 00:02:00 (00:00:00 keeps every reading for {FaasSettings.LagCacheMilliseconds} only).");
        }

        if (NonEmpty(configuration[FaasSettings.IngressRepeatWindow]) is { } window)
        {
            options.IngressRepeatWindow = TimeSpan.TryParse(window, CultureInfo.InvariantCulture, out TimeSpan span)
                ? span
                : throw new ArgumentException($"{FaasSettings.IngressRepeatWindow}: '{window}' is not a TimeSpan such as 00:10:00 (00:00:00 turns repeat detection off).");
        }

        return options;
    }

    /// <summary>Every problem with these options, one line each, naming the setting and the fix (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (HttpPort is < 0 or > 65535)
        {
            problems.Add($"{FaasSettings.HttpPort}: {HttpPort} is not a port number (0-65535).");
        }

        if (GrpcPort is < 0 or > 65535)
        {
            problems.Add($"{FaasSettings.GrpcPort}: {GrpcPort} is not a port number (0-65535).");
        }

        if (HttpPort == GrpcPort && HttpPort != 0)
        {
            problems.Add($"{FaasSettings.HttpPort} and {FaasSettings.GrpcPort} are both {HttpPort}: give the scaler its own port.");
        }

        if ((GrpcTlsCertificate is null) != (GrpcTlsKey is null))
        {
            problems.Add($"TLS on the scaler port needs both {FaasSettings.GrpcTlsCertificate} and {FaasSettings.GrpcTlsKey} (PEM files); only one is set.");
        }

        if (GrpcTlsClientCa is not null && GrpcTlsCertificate is null)
        {
            problems.Add($"{FaasSettings.GrpcTlsClientCa} needs TLS: set {FaasSettings.GrpcTlsCertificate} and {FaasSettings.GrpcTlsKey} too.");
        }

        foreach ((string setting, string? file) in new[] { (FaasSettings.GrpcTlsCertificate, GrpcTlsCertificate), (FaasSettings.GrpcTlsKey, GrpcTlsKey), (FaasSettings.GrpcTlsClientCa, GrpcTlsClientCa) })
        {
            if (file is not null && !File.Exists(file))
            {
                problems.Add($"{setting}: file '{file}' does not exist.");
            }
        }

        if (LagCacheDuration < TimeSpan.Zero || LagCacheDuration > TimeSpan.FromMinutes(1))
        {
            problems.Add($"{FaasSettings.LagCacheMilliseconds}: {LagCacheDuration.TotalMilliseconds} ms must be between 0 and 60000.");
        }

        if (LagIdleCacheMax < TimeSpan.Zero || LagIdleCacheMax > TimeSpan.FromHours(1))
        {
            problems.Add($"{FaasSettings.LagIdleMax}: {LagIdleCacheMax} must be between 00:00:00 (no idle back-off) and 01:00:00.");
        }

        if (IngressRepeatWindow < TimeSpan.Zero || IngressRepeatWindow > TimeSpan.FromDays(1))
        {
            problems.Add($"{FaasSettings.IngressRepeatWindow}: {IngressRepeatWindow} must be between 00:00:00 (off) and 1.00:00:00 (a day).");
        }

        if (IngressRepeatCapacity < 1)
        {
            problems.Add($"IngressRepeatCapacity: {IngressRepeatCapacity} must be at least 1.");
        }

        if (MaxRequestBodyBytes < 1024)
        {
            problems.Add($"MaxRequestBodyBytes: {MaxRequestBodyBytes} must be at least 1024.");
        }

        return problems;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static int? Int(IConfiguration configuration, string name) =>
        NonEmpty(configuration[name]) is { } v
            ? int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw new ArgumentException($"{name}: '{v}' is not a port number (0-65535).")
            : null;
}
