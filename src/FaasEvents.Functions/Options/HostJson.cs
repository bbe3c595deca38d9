using System.Globalization;
using System.Text;
using System.Text.Json;
using FaasEvents.Log.Consumers;

namespace FaasEvents.Functions;

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
                case "maxBatchSize": o.MaxBatchSize = Int(p.Value, key); break;
                case "batchCheckpointFrequency": o.BatchCheckpointFrequency = Int(p.Value, key); break;
                case "maxConcurrentPartitions": o.MaxConcurrentPartitions = Int(p.Value, key); break;
                case "defaultPartitions": o.DefaultPartitions = Int(p.Value, key); break;
                case "createStreamsIfMissing": o.CreateStreamsIfMissing = Bool(p.Value, key); break;
                case "initialOffset":
                    o.InitialOffset = Str(p.Value, key) switch
                    {
                        "earliest" => InitialOffset.Earliest,
                        "latest" => InitialOffset.Latest,
                        var s => throw new HostJsonException($"{key}: '{s}' must be 'earliest' or 'latest'"),
                    };
                    break;
                case "leaseDuration": o.LeaseDuration = Span(p.Value, key); break;
                case "loadBalancingInterval": o.LoadBalancingInterval = Span(p.Value, key); break;
                case "pollInterval": o.PollInterval = Span(p.Value, key); break;
                case "maxPollInterval": o.MaxPollInterval = Span(p.Value, key); break;
                case "stateCommitInterval": o.StateCommitInterval = Span(p.Value, key); break;
                case "retry": o.Retry = ReadRetry(p.Value, key); break;
                case "deadLetter": ReadDeadLetter(p.Value, o, key); break;
                case "queue": ReadQueue(p.Value, o.Queue, key); break;
                default: throw new HostJsonException($"{key}: unknown setting (known: maxBatchSize, batchCheckpointFrequency, initialOffset, maxConcurrentPartitions, leaseDuration, loadBalancingInterval, pollInterval, maxPollInterval, stateCommitInterval, createStreamsIfMissing, defaultPartitions, retry, deadLetter, queue)");
            }
        }

        // host.json only binds; the ranges and rules live on the options type (the same check runs for options set in code).
        IReadOnlyList<string> problems = o.Validate();
        if (problems.Count > 0)
        {
            throw new HostJsonException(string.Join("; ", problems.Select(problem => $"{at}.{problem}")));
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
        // Binding only: EventLogHostOptions.Validate checks the policy (maxRetryCount, minimum <= maximum) with the rest.
        return strategy switch
        {
            "fixedDelay" => RetrySettings.Fixed(max, Required("delayInterval")),
            "exponentialBackoff" => RetrySettings.Exponential(max, Required("minimumInterval"), Required("maximumInterval")),
            _ => throw new HostJsonException($"{at}.strategy: '{strategy}' must be 'fixedDelay' or 'exponentialBackoff'"),
        };
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
                    o.DeadLetterStream = Str(p.Value, $"{at}.stream");
                    break;
                default: throw new HostJsonException($"{at}.{p.Name}: unknown setting (known: mode, stream)");
            }
        }
    }

    private static void ReadQueue(JsonElement el, QueueOptions q, string at)
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
                case "lockDuration": q.LockDuration = Span(p.Value, key); break;
                case "maxDeliveryCount": q.MaxDeliveryCount = Int(p.Value, key); break;
                case "maxConcurrentCalls": q.MaxConcurrentCalls = Int(p.Value, key); break;
                case "window": q.Window = Int(p.Value, key); break;
                default: throw new HostJsonException($"{key}: unknown setting (known: lockDuration, maxDeliveryCount, maxConcurrentCalls, window)");
            }
        }
    }

    private static int Int(JsonElement v, string key) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n)
            ? n
            : throw new HostJsonException($"{key}: must be an integer (was {v.GetRawText()})");

    private static int Int(JsonElement v, string key, int min, int max) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= min && n <= max
            ? n
            : throw new HostJsonException($"{key}: must be an integer between {min} and {max} (was {v.GetRawText()})");

    private static bool Bool(JsonElement v, string key) =>
        v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw new HostJsonException($"{key}: must be true or false (was {v.GetRawText()})");

    private static string Str(JsonElement v, string key) =>
        v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new HostJsonException($"{key}: must be a string (was {v.GetRawText()})");

    private static TimeSpan Span(JsonElement v, string key)
    {
        string text = Str(v, key);
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan t)
            ? t
            : throw new HostJsonException($"{key}: '{text}' is not a time span (write e.g. 00:00:20)");
    }

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
