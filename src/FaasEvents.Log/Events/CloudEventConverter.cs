using System.Net.Mime;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Extensions;
using CloudNative.CloudEvents.SystemTextJson;

namespace FaasEvents.Log.Events;

/// <summary>
/// Converts between <see cref="LogEvent"/> and the CloudEvents SDK's <see cref="CloudEvent"/>, and reads and
/// writes structured-mode JSON. The Partitioning extension's <c>partitionkey</c> maps to <see cref="LogEvent.PartitionKey"/>.
/// </summary>
public static class CloudEventConverter
{
    private static readonly JsonEventFormatter Formatter = new();
    private static readonly CloudEventAttribute[] KnownExtensions = [Partitioning.PartitionKeyAttribute];

    /// <summary>The CloudEvents JSON formatter used for structured and batched modes.</summary>
    public static CloudEventFormatter JsonFormatter => Formatter;

    /// <summary>Extension attributes with known types (the Partitioning extension).</summary>
    public static IReadOnlyList<CloudEventAttribute> ExtensionAttributes => KnownExtensions;

    /// <summary>Converts a CloudEvent. Data becomes bytes: JSON as its UTF-8 text, strings as UTF-8, binary as is.</summary>
    public static LogEvent ToLogEvent(CloudEvent cloudEvent)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        if (cloudEvent.Id is null || cloudEvent.Source is null || cloudEvent.Type is null)
        {
            string missing = cloudEvent.Id is null ? "id" : cloudEvent.Source is null ? "source" : "type";
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Invalid CloudEvent: the required attribute '{missing}' is missing.");
        }

        var e = new LogEvent(cloudEvent.Id, cloudEvent.Source.OriginalString, cloudEvent.Type)
        {
            Time = cloudEvent.Time,
            Subject = cloudEvent.Subject,
            DataContentType = cloudEvent.DataContentType,
            DataSchema = cloudEvent.DataSchema?.OriginalString,
            Data = cloudEvent.Data switch
            {
                null => null,
                byte[] bytes => new BinaryData(bytes),
                string s => BinaryData.FromString(s),
                JsonElement { ValueKind: JsonValueKind.Null } => null,
                JsonElement json => BinaryData.FromString(json.GetRawText()),
                BinaryData b => b,
                object other => BinaryData.FromObjectAsJson(other),
            },
        };
        foreach (KeyValuePair<CloudEventAttribute, object> attr in cloudEvent.GetPopulatedAttributes())
        {
            if (attr.Key.IsExtension)
            {
                if (attr.Key.Name == Partitioning.PartitionKeyAttribute.Name)
                {
                    e.PartitionKey = attr.Value.ToString();
                }
                else
                {
                    e.Extensions[attr.Key.Name] = attr.Value;
                }
            }
        }

        return e;
    }

    /// <summary>Converts to a CloudEvent. JSON data (by content type) becomes a JSON value; text stays text; anything else is binary.</summary>
    public static CloudEvent ToCloudEvent(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        var ce = new CloudEvent(CloudEventsSpecVersion.V1_0, KnownExtensions)
        {
            Id = logEvent.Id,
            Source = new Uri(logEvent.Source, UriKind.RelativeOrAbsolute),
            Type = logEvent.Type,
            Time = logEvent.Time,
            Subject = logEvent.Subject,
            DataContentType = logEvent.DataContentType,
            DataSchema = logEvent.DataSchema is null ? null : new Uri(logEvent.DataSchema, UriKind.RelativeOrAbsolute),
        };
        if (logEvent.PartitionKey is not null)
        {
            ce.SetPartitionKey(logEvent.PartitionKey);
        }

        if (logEvent.ExtensionCount > 0)
        {
            foreach (KeyValuePair<string, object> ext in logEvent.Extensions)
            {
                CloudEventAttributeType type = ext.Value switch
                {
                    bool => CloudEventAttributeType.Boolean,
                    int => CloudEventAttributeType.Integer,
                    byte[] => CloudEventAttributeType.Binary,
                    Uri { IsAbsoluteUri: true } => CloudEventAttributeType.Uri,
                    Uri => CloudEventAttributeType.UriReference,
                    DateTimeOffset => CloudEventAttributeType.Timestamp,
                    _ => CloudEventAttributeType.String,
                };
                ce[CloudEventAttribute.CreateExtension(ext.Key, type)] = type == CloudEventAttributeType.String ? ext.Value.ToString() : ext.Value;
            }
        }

        if (logEvent.Data is { } data)
        {
            ce.Data = DecodeData(data, logEvent.DataContentType);
        }

        return ce;
    }

    /// <summary>Parses one structured-mode JSON CloudEvent; a malformed one is an <see cref="EventLogErrorReason.InvalidArgument"/> naming the problem.</summary>
    public static LogEvent ParseStructuredJson(ReadOnlyMemory<byte> json)
    {
        try
        {
            CheckExtensionTypes(json);
            return ToLogEvent(Formatter.DecodeStructuredModeMessage(json, new ContentType("application/cloudevents+json"), KnownExtensions));
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or FormatException or InvalidOperationException)
        {
            throw Invalid(ex);
        }
    }

    /// <summary>Parses a batched-mode JSON array of CloudEvents; a malformed one is an <see cref="EventLogErrorReason.InvalidArgument"/> naming the problem.</summary>
    public static List<LogEvent> ParseBatchJson(ReadOnlyMemory<byte> json, string contentType = "application/cloudevents-batch+json")
    {
        try
        {
            CheckExtensionTypes(json);
            return Formatter.DecodeBatchModeMessage(json, new ContentType(contentType), KnownExtensions).Select(ToLogEvent).ToList();
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or FormatException or InvalidOperationException)
        {
            throw Invalid(ex);
        }
    }

    /// <summary>
    /// The SDK's formatter accepts a JSON number or boolean for an extension it knows as a String (and then stores its
    /// text): refuse that for <c>partitionkey</c>, which the Partitioning extension types as String.
    /// </summary>
    private static void CheckExtensionTypes(ReadOnlyMemory<byte> json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        IEnumerable<JsonElement> events = doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement.EnumerateArray() : [doc.RootElement];
        foreach (JsonElement e in events)
        {
            if (e.ValueKind == JsonValueKind.Object
                && e.TryGetProperty(Partitioning.PartitionKeyAttribute.Name, out JsonElement key)
                && key.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                throw new FormatException($"'partitionkey' must be a JSON string (the CloudEvents Partitioning extension types it as String), not {key.ValueKind.ToString().ToLowerInvariant()} {key.GetRawText()}; quote it: \"partitionkey\":\"{key.GetRawText().Trim('"')}\"");
            }
        }
    }

    private static EventLogException Invalid(Exception ex)
    {
        string message = ex is ArgumentException { ParamName: { } param } ? ex.Message.Replace($" (Parameter '{param}')", "", StringComparison.Ordinal) : ex.Message;
        return new EventLogException(EventLogErrorReason.InvalidArgument, "Invalid CloudEvent JSON: " + message.TrimEnd('.') + ".", ex);
    }

    /// <summary>
    /// The event as a structured-mode JSON CloudEvent object, with added top-level <c>partition</c> and
    /// <c>offset</c> fields (as <c>faas tail --output json</c> prints it).
    /// </summary>
    public static JsonObject ToStructuredJson(StoredEvent stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        JsonObject obj = JsonNode.Parse(Formatter.ConvertToJsonElement(ToCloudEvent(stored.Event)).GetRawText())!.AsObject();
        obj["partition"] = stored.Partition;
        obj["offset"] = stored.Offset;
        return obj;
    }

    /// <summary>True for <c>application/json</c>, <c>text/json</c> and <c>*+json</c> media types.</summary>
    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        string media = contentType.Split(';')[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Equals("text/json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    private static object DecodeData(BinaryData data, string? contentType)
    {
        if (IsJson(contentType))
        {
            try
            {
                using JsonDocument doc = JsonDocument.Parse(data.ToMemory());
                return doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                return data.ToArray(); // not valid JSON after all: keep the bytes
            }
        }

        if (contentType is not null && contentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new UTF8Encoding(false, true).GetString(data.ToMemory().Span);
            }
            catch (DecoderFallbackException)
            {
                return data.ToArray();
            }
        }

        return data.ToArray();
    }
}
