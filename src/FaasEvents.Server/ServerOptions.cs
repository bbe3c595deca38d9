namespace FaasEvents.Server;

/// <summary>Settings of the control plane (configuration section <c>Faas</c>, or the environment variables named).</summary>
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
    /// How often StreamIsActive re-checks lag when no ingress append signals it (direct producers): with the cache,
    /// lag is noticed within about a second. <value>Default: 400 ms.</value>
    /// </summary>
    public TimeSpan ActivePollInterval { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Ingress API keys (<c>FAAS_INGRESS_API_KEYS</c>, comma-separated); empty = no auth.</summary>
    public IReadOnlyList<string> IngressApiKeys { get; set; } = [];

    /// <summary>Largest ingress request body. <value>Default: 4 MiB.</value></summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;
}
