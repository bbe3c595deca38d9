using System.Globalization;
using System.Text;
using System.Text.Json;
using FaasEvents.Log.Format;

namespace FaasEvents.Log.Events;

/// <summary>Renders an event readably, in the layout of Knative's <c>event_display</c>.</summary>
public static class EventDisplay
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Attributes, extensions and data of <paramref name="stored"/>, one per line, with its position.</summary>
    public static string Format(StoredEvent stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        LogEvent e = stored.Event;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"☁️  cloudevents.Event (partition {stored.Partition}, offset {stored.Offset})\n");
        sb.Append("Context Attributes,\n");
        sb.Append(CultureInfo.InvariantCulture, $"  specversion: {e.SpecVersion}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  type: {e.Type}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  source: {e.Source}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  id: {e.Id}\n");
        if (e.Time is { } t)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  time: {EventCodec.FormatTimestamp(t)}\n");
        }

        if (e.Subject is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  subject: {e.Subject}\n");
        }

        if (e.DataContentType is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  datacontenttype: {e.DataContentType}\n");
        }

        if (e.DataSchema is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  dataschema: {e.DataSchema}\n");
        }

        if (e.PartitionKey is not null || e.ExtensionCount > 0)
        {
            sb.Append("Extensions,\n");
            if (e.PartitionKey is not null)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  partitionkey: {e.PartitionKey}\n");
            }

            foreach (KeyValuePair<string, object> ext in e.Extensions.OrderBy(x => x.Key, StringComparer.Ordinal))
            {
                string value = ext.Value switch
                {
                    byte[] b => Convert.ToBase64String(b),
                    DateTimeOffset d => EventCodec.FormatTimestamp(d),
                    bool b => b ? "true" : "false",
                    _ => Convert.ToString(ext.Value, CultureInfo.InvariantCulture) ?? "",
                };
                sb.Append(CultureInfo.InvariantCulture, $"  {ext.Key}: {value}\n");
            }
        }

        sb.Append(CultureInfo.InvariantCulture, $"Data,\n  {FormatData(e)}\n");
        return sb.ToString();
    }

    private static string FormatData(LogEvent e)
    {
        if (e.Data is null)
        {
            return "(none: tombstone)";
        }

        if (CloudEventConverter.IsJson(e.DataContentType) || e.DataContentType is null)
        {
            try
            {
                using JsonDocument doc = JsonDocument.Parse(e.Data.ToMemory());
                return JsonSerializer.Serialize(doc.RootElement, Indented).Replace("\n", "\n  ", StringComparison.Ordinal);
            }
            catch (JsonException)
            {
                // not JSON: fall through
            }
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(e.Data.ToMemory().Span);
        }
        catch (DecoderFallbackException)
        {
            return $"({e.Data.ToMemory().Length} bytes, base64) {Convert.ToBase64String(e.Data.ToMemory().Span)}";
        }
    }
}
