using Azure.Storage.Blobs;
using FaasEvents.Log.Reader;

namespace FaasEvents.Log;

/// <summary>Options for <see cref="EventLogClient"/>.</summary>
public sealed class EventLogClientOptions
{
    private string containerName = DefaultContainerName;
    private int readRangeBytes = 1024 * 1024;

    /// <summary>The default blob container: <c>faas</c>.</summary>
    public const string DefaultContainerName = "faas";

    /// <summary>The blob container holding streams and groups. <value>Default: <c>faas</c>.</value></summary>
    public string ContainerName
    {
        get => containerName;
        set
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value);
            if (value.Length is < 3 or > 63 || !value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') || value.StartsWith('-') || value.Contains("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Container name '{value}' is not a valid blob container name (3-63 lower-case letters, digits and single hyphens).", nameof(value));
            }

            containerName = value;
        }
    }

    /// <summary>The clock for timestamps, retention and lease bookkeeping. <value>Default: <see cref="TimeProvider.System"/>.</value></summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Options for the storage SDK (retries, diagnostics, extra pipeline policies).
    /// <value>Default: the SDK's defaults (exponential retry, 3 retries).</value>
    /// </summary>
    public BlobClientOptions? StorageOptions { get; set; }

    /// <summary>
    /// Most bytes a reader fetches from a segment in one request; it reads a segment as consecutive ranges of this size.
    /// Bounded ranges keep a single response short (a broken connection costs one range) and within what Azurite with
    /// on-disk persistence can serve: it fails a response holding more than about 20,000 blocks, and 1 MiB of the
    /// smallest batches is under 10,000.
    /// <value>Default: 1 MiB; at least 1 KiB.</value>
    /// </summary>
    public int ReadRangeBytes
    {
        get => readRangeBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1024);
            readRangeBytes = value;
        }
    }

    /// <summary>Creates the container on first use when it is missing. <value>Default: true.</value></summary>
    public bool CreateContainerIfMissing { get; set; } = true;

    /// <summary>
    /// A FaasEvents server (its HTTP address, e.g. <c>http://faas-server:8080</c>) to tell about this client's appends,
    /// so its scaler wakes functions from zero and running instances read at once, and whose notices of other processes'
    /// appends <see cref="EventLogClient.FollowServerNoticesAsync"/> follows. Best effort: without it (or while it is
    /// unreachable) readers notice appends at their next poll. The hosts read it from <c>FAAS_SERVER_URL</c>.
    /// <value>Default: null.</value>
    /// </summary>
    public Uri? ServerUrl { get; set; }

    /// <summary>The API key the server requires (one of its <c>FAAS_API_KEYS</c>), if any; never logged. <value>Default: null.</value></summary>
    public string? ServerApiKey { get; set; }

    /// <summary>The doorbell appends ring and readers wait on: the process's, unless a test separates "processes" in one.</summary>
    internal AppendBell Bell { get; set; } = AppendBell.Shared;

    /// <summary>
    /// The identity this client's producers append as (an app or function name in dev, the managed identity's name in
    /// Azure); stamped on every event as the <c>faasproducer</c> extension. A stream with an owner refuses appends by
    /// any other identity (<see cref="EventLogErrorReason.NotStreamOwner"/>). Default: the <c>FAAS_IDENTITY</c> setting.
    /// </summary>
    public string? Identity { get; set; } = Environment.GetEnvironmentVariable(FaasSettings.Identity) is { Length: > 0 } id ? id : null;

    internal EventLogClientOptions Clone() => (EventLogClientOptions)MemberwiseClone();
}
