using System.Globalization;
using System.Text;
using System.Text.Json;
using FaasEvents.Log;

namespace FaasEvents.Functions;

/// <summary>What happens to an event whose handler still fails after the last retry.</summary>
public enum DeadLetterMode
{
    /// <summary>Append it to the dead-letter stream with the error, and move on.</summary>
    DeadLetter,
    /// <summary>Stop the partition (it keeps its lease; lag grows; health reports it) until the app restarts.</summary>
    Stop,
}

/// <summary><c>extensions.eventLog</c> of host.json: how the runtime consumes streams.</summary>
public sealed class EventLogHostOptions
{
    /// <summary>Most events per batch invocation. <value>Default: 100.</value></summary>
    public int MaxBatchSize { get; set; } = 100;

    /// <summary>Checkpoint after this many successful invocations (or at shutdown / partition release). <value>Default: 1.</value></summary>
    public int BatchCheckpointFrequency { get; set; } = 1;

    /// <summary>Where a group without a checkpoint starts. <value>Default: earliest.</value></summary>
    public InitialOffset InitialOffset { get; set; } = InitialOffset.Earliest;

    /// <summary>Most partitions running handlers at once in this instance. <value>Default: 8.</value></summary>
    public int MaxConcurrentPartitions { get; set; } = 8;

    /// <summary>Partition lease duration, 15-60 s. <value>Default: 20 s.</value></summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often an instance renews, claims and balances partitions. <value>Default: 5 s.</value></summary>
    public TimeSpan LoadBalancingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often an idle partition looks for new events. <value>Default: 100 ms.</value></summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A materializer commits its table's changes (and offset) at most this long after handling events, 100 ms-5 min. <value>Default: 5 s.</value></summary>
    public TimeSpan StateCommitInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Create missing trigger and output streams at start-up. <value>Default: false (a missing stream stops start-up).</value></summary>
    public bool CreateStreamsIfMissing { get; set; }

    /// <summary>Partitions of streams created by <see cref="CreateStreamsIfMissing"/>. <value>Default: 4.</value></summary>
    public int DefaultPartitions { get; set; } = 4;

    /// <summary>Retry policy for functions without a retry attribute. <value>Default: fixedDelay, 3 retries, 1 s.</value></summary>
    public RetrySettings Retry { get; set; } = RetrySettings.Default;

    /// <summary>After the last retry. <value>Default: deadLetter.</value></summary>
    public DeadLetterMode DeadLetterMode { get; set; } = DeadLetterMode.DeadLetter;

    /// <summary>Dead-letter stream; <c>{stream}</c> and <c>{group}</c> are replaced. <value>Default: <c>{stream}.{group}.deadletter</c>.</value></summary>
    public string DeadLetterStream { get; set; } = "{stream}.{group}.deadletter";

    /// <summary>The dead-letter stream of a function.</summary>
    public string DeadLetterStreamFor(FunctionDefinition function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return DeadLetterStream.Replace("{stream}", function.Stream, StringComparison.Ordinal).Replace("{group}", function.ConsumerGroup, StringComparison.Ordinal);
    }

    /// <summary>The effective options, one line, for the start-up log.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"maxBatchSize={MaxBatchSize}, batchCheckpointFrequency={BatchCheckpointFrequency}, initialOffset={InitialOffset.ToString().ToLowerInvariant()}, maxConcurrentPartitions={MaxConcurrentPartitions}, leaseDuration={LeaseDuration}, loadBalancingInterval={LoadBalancingInterval}, pollInterval={PollInterval}, stateCommitInterval={StateCommitInterval}, createStreamsIfMissing={CreateStreamsIfMissing}, retry={Retry}, deadLetter={DeadLetterMode} -> {DeadLetterStream}");
}

/// <summary>Reads and validates host.json. Every error names the key and the reason.</summary>
public static class HostJson
{
    /// <summary>The host.json schema version this runtime reads.</summary>
    public const string Version = "2.0";

    /// <summary>Loads host.json from <paramref name="path"/>; a missing file gives the defaults.</summary>
    public static (EventLogHostOptions Options, IReadOnlyDictionary<string, string> LogLevels) Load(string? path)
    {
        if (path is null || !File.Exists(path))
        {
            return (new EventLogHostOptions(), new Dictionary<string, string>());
        }

        return Parse(File.ReadAllText(path, Encoding.UTF8), Path.GetFileName(path));
    }

    /// <summary>Parses host.json text.</summary>
    public static (EventLogHostOptions Options, IReadOnlyDictionary<string, string> LogLevels) Parse(string json, string fileName = "host.json")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new HostJsonException($"{fileName}: not valid JSON ({ex.Message})");
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new HostJsonException($"{fileName}: the root must be a JSON object");
            }

            if (!root.TryGetProperty("version", out JsonElement version) || version.ValueKind != JsonValueKind.String || version.GetString() != Version)
            {
                throw new HostJsonException($"{fileName}: 'version' must be \"{Version}\"");
            }

            var levels = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (root.TryGetProperty("logging", out JsonElement logging) && logging.TryGetProperty("logLevel", out JsonElement logLevel))
            {
                if (logLevel.ValueKind != JsonValueKind.Object)
                {
                    throw new HostJsonException($"{fileName}: logging.logLevel must be an object of category -> level");
                }

                foreach (JsonProperty p in logLevel.EnumerateObject())
                {
                    string? level = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                    if (level is null || !Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(level, ignoreCase: true, out _))
                    {
                        throw new HostJsonException($"{fileName}: logging.logLevel.{p.Name}: '{p.Value}' is not a log level (Trace, Debug, Information, Warning, Error, Critical, None)");
                    }

                    levels[p.Name.Equals("default", StringComparison.OrdinalIgnoreCase) ? "Default" : p.Name] = level;
                }
            }

            var options = new EventLogHostOptions();
            if (root.TryGetProperty("extensions", out JsonElement ext) && ext.TryGetProperty("eventLog", out JsonElement el))
            {
                ReadEventLog(el, options, $"{fileName}: extensions.eventLog");
            }

            return (options, levels);
        }
    }

    private static void ReadEventLog(JsonElement el, EventLogHostOptions o, string at)
    {
        if (el.ValueKind != JsonValueKind.Object)
        {
            throw new HostJsonException($"{at} must be an object");
        }

        foreach (JsonProperty p in el.EnumerateObject())
        {
            string key = $"{at}.{p.Name}";
            switch (p.Name)
            {
                case "maxBatchSize": o.MaxBatchSize = Int(p.Value, key, 1, 10_000); break;
                case "batchCheckpointFrequency": o.BatchCheckpointFrequency = Int(p.Value, key, 1, 10_000); break;
                case "maxConcurrentPartitions": o.MaxConcurrentPartitions = Int(p.Value, key, 1, 1024); break;
                case "defaultPartitions": o.DefaultPartitions = Int(p.Value, key, 1, StreamDefinition.MaxPartitions); break;
                case "createStreamsIfMissing": o.CreateStreamsIfMissing = Bool(p.Value, key); break;
                case "initialOffset":
                    o.InitialOffset = Str(p.Value, key) switch
                    {
                        "earliest" => InitialOffset.Earliest,
                        "latest" => InitialOffset.Latest,
                        var s => throw new HostJsonException($"{key}: '{s}' must be 'earliest' or 'latest'"),
                    };
                    break;
                case "leaseDuration": o.LeaseDuration = Span(p.Value, key, PartitionLeaseClient.MinDuration, PartitionLeaseClient.MaxDuration); break;
                case "loadBalancingInterval": o.LoadBalancingInterval = Span(p.Value, key, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5)); break;
                case "pollInterval": o.PollInterval = Span(p.Value, key, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1)); break;
                case "stateCommitInterval": o.StateCommitInterval = Span(p.Value, key, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5)); break;
                case "retry": o.Retry = ReadRetry(p.Value, key); break;
                case "deadLetter": ReadDeadLetter(p.Value, o, key); break;
                default: throw new HostJsonException($"{key}: unknown setting (known: maxBatchSize, batchCheckpointFrequency, initialOffset, maxConcurrentPartitions, leaseDuration, loadBalancingInterval, pollInterval, stateCommitInterval, createStreamsIfMissing, defaultPartitions, retry, deadLetter)");
            }
        }

        if (o.LoadBalancingInterval >= o.LeaseDuration)
        {
            throw new HostJsonException($"{at}.loadBalancingInterval ({o.LoadBalancingInterval}) must be shorter than leaseDuration ({o.LeaseDuration}), or leases expire between renewals");
        }
    }

    private static RetrySettings ReadRetry(JsonElement el, string at)
    {
        if (el.ValueKind != JsonValueKind.Object)
        {
            throw new HostJsonException($"{at} must be an object with 'strategy'");
        }

        string strategy = el.TryGetProperty("strategy", out JsonElement s) ? Str(s, at + ".strategy") : throw new HostJsonException($"{at}.strategy is required: 'fixedDelay' or 'exponentialBackoff'");
        int max = el.TryGetProperty("maxRetryCount", out JsonElement m) ? Int(m, at + ".maxRetryCount", 0, 1000) : throw new HostJsonException($"{at}.maxRetryCount is required");
        foreach (JsonProperty p in el.EnumerateObject())
        {
            bool known = p.Name is "strategy" or "maxRetryCount"
                || (strategy == "fixedDelay" && p.Name == "delayInterval")
                || (strategy == "exponentialBackoff" && p.Name is "minimumInterval" or "maximumInterval");
            if (!known)
            {
                throw new HostJsonException($"{at}.{p.Name}: not a setting of strategy '{strategy}'");
            }
        }

        TimeSpan Required(string name) => el.TryGetProperty(name, out JsonElement v) ? Span(v, $"{at}.{name}", TimeSpan.Zero, TimeSpan.FromDays(1)) : throw new HostJsonException($"{at}.{name} is required for strategy '{strategy}'");
        RetrySettings r = strategy switch
        {
            "fixedDelay" => RetrySettings.Fixed(max, Required("delayInterval")),
            "exponentialBackoff" => RetrySettings.Exponential(max, Required("minimumInterval"), Required("maximumInterval")),
            _ => throw new HostJsonException($"{at}.strategy: '{strategy}' must be 'fixedDelay' or 'exponentialBackoff'"),
        };
        try
        {
            return RetrySettings.Validate(r, at);
        }
        catch (FormatException ex)
        {
            throw new HostJsonException(ex.Message);
        }
    }

    private static void ReadDeadLetter(JsonElement el, EventLogHostOptions o, string at)
    {
        if (el.ValueKind != JsonValueKind.Object)
        {
            throw new HostJsonException($"{at} must be an object");
        }

        foreach (JsonProperty p in el.EnumerateObject())
        {
            switch (p.Name)
            {
                case "mode":
                    o.DeadLetterMode = Str(p.Value, $"{at}.mode") switch
                    {
                        "deadLetter" => DeadLetterMode.DeadLetter,
                        "stop" => DeadLetterMode.Stop,
                        var s => throw new HostJsonException($"{at}.mode: '{s}' must be 'deadLetter' or 'stop'"),
                    };
                    break;
                case "stream":
                    string stream = Str(p.Value, $"{at}.stream");
                    try
                    {
                        StreamDefinition.ValidateName(stream.Replace("{stream}", "s", StringComparison.Ordinal).Replace("{group}", "g", StringComparison.Ordinal), "stream");
                    }
                    catch (EventLogException ex)
                    {
                        throw new HostJsonException($"{at}.stream: {ex.Message}");
                    }

                    o.DeadLetterStream = stream;
                    break;
                default: throw new HostJsonException($"{at}.{p.Name}: unknown setting (known: mode, stream)");
            }
        }
    }

    private static int Int(JsonElement v, string key, int min, int max) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= min && n <= max
            ? n
            : throw new HostJsonException($"{key}: must be an integer between {min} and {max} (was {v.GetRawText()})");

    private static bool Bool(JsonElement v, string key) =>
        v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw new HostJsonException($"{key}: must be true or false (was {v.GetRawText()})");

    private static string Str(JsonElement v, string key) =>
        v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new HostJsonException($"{key}: must be a string (was {v.GetRawText()})");

    private static TimeSpan Span(JsonElement v, string key, TimeSpan min, TimeSpan max)
    {
        string text = Str(v, key);
        if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan t) || t < min || t > max)
        {
            throw new HostJsonException($"{key}: '{text}' must be a time span between {min} and {max} (write e.g. 00:00:20)");
        }

        return t;
    }
}

/// <summary>host.json is invalid; the message names the key and the reason.</summary>
public sealed class HostJsonException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HostJsonException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public HostJsonException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public HostJsonException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
