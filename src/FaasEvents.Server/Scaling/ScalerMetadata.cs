using System.Globalization;
using System.Text;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;

namespace FaasEvents.Server.Scaling;

/// <summary>
/// Validated trigger metadata of a ScaledObject using the FaasEvents scaler (the same keys as KEDA's Kafka scaler
/// where they mean the same): <c>stream</c>, <c>consumerGroup</c>, <c>lagThreshold</c>, <c>activationLagThreshold</c>,
/// <c>allowIdleConsumers</c>, <c>limitToPartitionsWithLag</c>, <c>initialOffset</c>; and <c>consumption</c>
/// (<c>stream</c> or <c>queue</c>: a queue group's lag is its unsettled events, and its replicas are not capped by the
/// partition count, only by the ScaledObject's maxReplicaCount).
/// </summary>
public sealed record ScalerMetadata(
    string Stream,
    string ConsumerGroup,
    long LagThreshold,
    long ActivationLagThreshold,
    bool AllowIdleConsumers,
    bool LimitToPartitionsWithLag,
    InitialOffset InitialOffset)
{
    /// <summary>True for a group that consumes its stream as a queue (<c>consumption: queue</c>).</summary>
    public bool Queue { get; init; }

    /// <summary>Default target lag per instance (as KEDA's Kafka scaler).</summary>
    public const long DefaultLagThreshold = 10;

    // KEDA passes the whole trigger metadata, its own connection keys included; those are accepted and ignored.
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "stream", "consumerGroup", "lagThreshold", "activationLagThreshold", "allowIdleConsumers", "limitToPartitionsWithLag", "initialOffset", "consumption",
        "scalerAddress", "caCert", "tlsCertFile", "tlsClientCert", "tlsClientKey", "unsafeSsl", "enableTLS",
    };

    /// <summary>
    /// The metric name: readable, a valid Kubernetes metric name, and unique per stream and consumer group (a short
    /// stable hash of the exact pair keeps <c>a.b</c>/<c>c</c> and <c>a</c>/<c>b.c</c> apart after sanitising).
    /// </summary>
    public string MetricName => $"faas-lag-{Sanitize(Stream)}-{Sanitize(ConsumerGroup)}-{(KeyPartitioner.Murmur2(Encoding.UTF8.GetBytes(Stream + "\n" + ConsumerGroup)) & 0xffffff):x6}";

    /// <summary>Parses and validates; throws <see cref="ScalerMetadataException"/> naming the bad key.</summary>
    public static ScalerMetadata Parse(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        foreach (string key in metadata.Keys)
        {
            if (!Known.Contains(key))
            {
                throw new ScalerMetadataException($"metadata key '{key}' is not known (known: {string.Join(", ", Known.Order(StringComparer.Ordinal))})");
            }
        }

        string stream = Required(metadata, "stream");
        string group = Required(metadata, "consumerGroup");
        try
        {
            StreamDefinition.ValidateName(stream, "stream");
            StreamDefinition.ValidateName(group, "consumer group");
        }
        catch (EventLogException ex)
        {
            throw new ScalerMetadataException($"metadata {(ex.Message.Contains("stream", StringComparison.Ordinal) ? "'stream'" : "'consumerGroup'")}: {ex.Message}");
        }

        long lagThreshold = Long(metadata, "lagThreshold", DefaultLagThreshold, min: 1);
        long activation = Long(metadata, "activationLagThreshold", 0, min: 0);
        bool idle = Bool(metadata, "allowIdleConsumers", false);
        bool limit = Bool(metadata, "limitToPartitionsWithLag", false);
        if (idle && limit)
        {
            throw new ScalerMetadataException("metadata 'allowIdleConsumers' and 'limitToPartitionsWithLag' cannot both be true");
        }

        InitialOffset initial = metadata.TryGetValue("initialOffset", out string? io)
            ? io switch
            {
                "earliest" => InitialOffset.Earliest,
                "latest" => InitialOffset.Latest,
                _ => throw new ScalerMetadataException($"metadata 'initialOffset': '{io}' must be 'earliest' or 'latest'"),
            }
            : InitialOffset.Earliest;
        bool queue = metadata.TryGetValue("consumption", out string? c)
            ? c switch
            {
                "stream" => false,
                "queue" => true,
                _ => throw new ScalerMetadataException($"metadata 'consumption': '{c}' must be 'stream' or 'queue'"),
            }
            : false;
        return new ScalerMetadata(stream, group, lagThreshold, activation, idle, limit, initial) { Queue = queue };
    }

    /// <summary>
    /// The metric KEDA divides by <see cref="LagThreshold"/> (HPA AverageValue): the total lag, capped so that
    /// replicas never exceed the partition count (or the partitions with lag), unless idle consumers are allowed or the
    /// group consumes as a queue (any number of instances share every partition: maxReplicaCount caps them).
    /// </summary>
    public long Metric(LagReport lag)
    {
        ArgumentNullException.ThrowIfNull(lag);
        long total = lag.TotalLag;
        if (AllowIdleConsumers || Queue)
        {
            return total;
        }

        int cap = LimitToPartitionsWithLag ? lag.PartitionsWithLag : lag.Partitions.Count;
        return Math.Min(total, checked(cap * LagThreshold));
    }

    /// <summary>True when the group should have at least one instance.</summary>
    public bool IsActive(LagReport lag)
    {
        ArgumentNullException.ThrowIfNull(lag);
        return lag.TotalLag > ActivationLagThreshold;
    }

    private static string Required(IReadOnlyDictionary<string, string> m, string key) =>
        m.TryGetValue(key, out string? v) && !string.IsNullOrWhiteSpace(v) ? v : throw new ScalerMetadataException($"metadata '{key}' is required");

    private static long Long(IReadOnlyDictionary<string, string> m, string key, long fallback, long min)
    {
        if (!m.TryGetValue(key, out string? v))
        {
            return fallback;
        }

        return long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n >= min
            ? n
            : throw new ScalerMetadataException($"metadata '{key}': '{v}' must be an integer >= {min}");
    }

    private static bool Bool(IReadOnlyDictionary<string, string> m, string key, bool fallback)
    {
        if (!m.TryGetValue(key, out string? v))
        {
            return fallback;
        }

        return bool.TryParse(v, out bool b) ? b : throw new ScalerMetadataException($"metadata '{key}': '{v}' must be 'true' or 'false'");
    }

    private static string Sanitize(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name.ToLowerInvariant())
        {
            sb.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' ? c : '-');
        }

        return sb.ToString();
    }
}
