namespace FaasEvents.Log;

/// <summary>
/// Every <c>FAAS_*</c> setting (environment variable or configuration key) any FaasEvents process reads, in one place.
/// Code reads a setting through these names only; docs/deployment.md describes them for operators.
/// </summary>
public static class FaasSettings
{
    /// <summary>Storage of the log: a connection string (Azurite/dev), an https:// blob endpoint (managed identity), or unset for Azurite. Read by the server, the CLI and function apps.</summary>
    public const string Storage = "FAAS_STORAGE";

    /// <summary>The producer identity a process appends as (single writer: a stream with an owner accepts only its owner's appends).</summary>
    public const string Identity = "FAAS_IDENTITY";

    /// <summary>The blob container holding the log (default <c>faas</c>). Read by the server, the CLI and function apps.</summary>
    public const string Container = "FAAS_CONTAINER";

    /// <summary>Function app: run only these functions (comma-separated names).</summary>
    public const string Functions = "FAAS_FUNCTIONS";

    /// <summary>Function app: the HTTP port of its health, metrics and materializer endpoints (default 7071).</summary>
    public const string FunctionsPort = "FAAS_FUNCTIONS_PORT";

    /// <summary>Function app: the path of host.json (default: next to the app, then the current directory).</summary>
    public const string HostJson = "FAAS_HOST_JSON";

    /// <summary>Function app: this instance's id, written as the owner of the partitions it leases (default: machine, process and a random suffix).</summary>
    public const string InstanceId = "FAAS_INSTANCE_ID";

    /// <summary>Server: the HTTP port of ingress, admin and health (default 8080).</summary>
    public const string HttpPort = "FAAS_HTTP_PORT";

    /// <summary>Server: the gRPC port of the KEDA external scaler (default 6000).</summary>
    public const string GrpcPort = "FAAS_GRPC_PORT";

    /// <summary>Server: PEM certificate for TLS on the scaler port.</summary>
    public const string GrpcTlsCertificate = "FAAS_GRPC_TLS_CERT";

    /// <summary>Server: PEM private key for TLS on the scaler port.</summary>
    public const string GrpcTlsKey = "FAAS_GRPC_TLS_KEY";

    /// <summary>Server: PEM CA that client certificates on the scaler port must chain to (mutual TLS).</summary>
    public const string GrpcTlsClientCa = "FAAS_GRPC_TLS_CLIENT_CA";

    /// <summary>
    /// Server and function apps: comma-separated API keys that every HTTP endpoint except health requires, in
    /// <c>x-api-key</c> or as <c>Authorization: Bearer KEY</c> (unset, and no <see cref="AuthJwtAuthority"/>: nothing required).
    /// </summary>
    public const string ApiKeys = "FAAS_API_KEYS";

    /// <summary>Server: the older name of <see cref="ApiKeys"/>, still read (the keys of both are accepted).</summary>
    public const string IngressApiKeys = "FAAS_INGRESS_API_KEYS";

    /// <summary>Server and function apps: an OpenID Connect issuer (Entra ID: https://login.microsoftonline.com/TENANT/v2.0) whose access tokens every HTTP endpoint except health accepts as well as API keys.</summary>
    public const string AuthJwtAuthority = "FAAS_AUTH_JWT_AUTHORITY";

    /// <summary>Server and function apps: the audience those access tokens must carry (the API's application ID URI or client id); required with <see cref="AuthJwtAuthority"/>.</summary>
    public const string AuthJwtAudience = "FAAS_AUTH_JWT_AUDIENCE";

    /// <summary>Server: how long the ingress recognises an event posted again (same source and id) and answers the first copy's position (default 00:10:00; 00:00:00 turns it off).</summary>
    public const string IngressRepeatWindow = "FAAS_INGRESS_REPEAT_WINDOW";

    /// <summary>Server: how long the scaler may reuse a lag reading, in milliseconds.</summary>
    public const string LagCacheMilliseconds = "FAAS_LAG_CACHE_MS";

    /// <summary>Server: how long a lag reading may be reused for a stream that has not changed (default 00:02:00; 00:00:00: no idle back-off).</summary>
    public const string LagIdleMax = "FAAS_LAG_IDLE_MAX";

    /// <summary>Server: how often the compaction service compacts entity streams (default 00:10:00).</summary>
    public const string CompactionInterval = "FAAS_COMPACTION_INTERVAL";

    /// <summary>Server: how often it applies each stream's retention (default 00:10:00; 00:00:00 turns it off).</summary>
    public const string RetentionInterval = "FAAS_RETENTION_INTERVAL";

    /// <summary>Server: how long compaction keeps tombstones (default: each stream's own deleteRetention).</summary>
    public const string CompactionDeleteRetention = "FAAS_COMPACTION_DELETE_RETENTION";

    /// <summary>Server: how old an event must be before compaction may remove it (default: each stream's own minCompactionLag).</summary>
    public const string CompactionMinLag = "FAAS_COMPACTION_MIN_LAG";

    /// <summary>Function apps and the CLI: the FaasEvents server's HTTP address, told about appends and followed for others' (optional).</summary>
    public const string ServerUrl = "FAAS_SERVER_URL";

    /// <summary>Function apps and the CLI: the API key the server requires (one of its FAAS_API_KEYS), if any.</summary>
    public const string ServerApiKey = "FAAS_SERVER_API_KEY";

    /// <summary>
    /// The value of <see cref="ServerUrl"/> as an address (null when unset); a value that is not an http(s) address
    /// fails naming the setting and the fix.
    /// </summary>
    public static Uri? ParseServerUrl(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value.Trim().TrimEnd('/') + "/", UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new EventLogException(EventLogErrorReason.InvalidArgument, $"{ServerUrl} '{value}' is not an http:// or https:// address: set it to the server's HTTP address (e.g. http://localhost:7070) or leave it unset.");
    }

    /// <summary>
    /// The value of <see cref="ServerApiKey"/>, trimmed (a key mounted from a file ends with a newline); null when unset.
    /// A key that cannot travel in an HTTP header fails naming the setting.
    /// </summary>
    public static string? ParseServerApiKey(string? value)
    {
        string? key = value?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }

        return key.Any(char.IsControl)
            ? throw new EventLogException(EventLogErrorReason.InvalidArgument, $"{ServerApiKey} holds a line break or another control character: set it to exactly one of the server's {ApiKeys} (the value is not shown).")
            : key;
    }

    /// <summary>The keys of an API-key setting (comma-separated, each trimmed; empty entries dropped).</summary>
    public static IReadOnlyList<string> ParseApiKeys(string? value) =>
        (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Every setting above, for docs and checks.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Storage, Container, Functions, FunctionsPort, HostJson, InstanceId, HttpPort, GrpcPort, GrpcTlsCertificate, GrpcTlsKey,
        GrpcTlsClientCa, ApiKeys, IngressApiKeys, AuthJwtAuthority, AuthJwtAudience, IngressRepeatWindow, LagCacheMilliseconds, LagIdleMax, RetentionInterval, CompactionInterval, CompactionDeleteRetention, CompactionMinLag,
        ServerUrl, ServerApiKey,
    ];
}
