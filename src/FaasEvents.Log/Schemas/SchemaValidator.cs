using System.Text.Json;
using FaasEvents.Log.Events;
using Json.Schema;

namespace FaasEvents.Log.Schemas;

/// <summary>
/// Checks events' data against one schema version: JSON data must match it (each violation named by its JSON path
/// and rule); a tombstone (no data) always passes; data that is not JSON does not. Schemas made of the keywords
/// compatibility is decided on are checked by <see cref="SchemaNodeValidator"/> in one walk; others (oneOf, anyOf,
/// if/then, patternProperties...) by JsonSchema.Net. Thread-safe.
/// </summary>
public sealed class SchemaValidator
{
    private static readonly EvaluationOptions Quick = new() { OutputFormat = OutputFormat.Flag };
    private static readonly EvaluationOptions Detailed = new() { OutputFormat = OutputFormat.List };
    private readonly JsonSchema? schema;
    private readonly SchemaNodeValidator? fast;
    private readonly Avro.Schema? avro;

    /// <summary>Compiles <paramref name="version"/>.</summary>
    public SchemaValidator(StreamSchema version)
    {
        ArgumentNullException.ThrowIfNull(version);
        Version = version;
        // Its own registry: versions of one stream may share an $id.
        if (version.Format == SchemaFormat.Avro)
        {
            avro = AvroCompatibility.Parse(version.Schema);
            return;
        }

        schema = JsonSchema.FromText(version.Schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        SchemaNode node = SchemaNode.Parse(version.Schema);
        fast = SchemaNodeValidator.Supports(node) ? new SchemaNodeValidator(node) : null;
    }

    /// <summary>The version events are checked against (and stamped with, as <c>dataschema</c>).</summary>
    public StreamSchema Version { get; }

    /// <summary>What is wrong with the event's data, one line per violation ("$.amount: ..."); empty when it matches.</summary>
    public IReadOnlyList<string> Validate(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        if (logEvent.Data is null)
        {
            return [];
        }

        string? type = logEvent.DataContentType;
        if (avro is not null)
        {
            return ValidateAvro(logEvent.Data, type);
        }

        if (type is not null && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) && !type.Contains("+json", StringComparison.OrdinalIgnoreCase) && !type.StartsWith("text/json", StringComparison.OrdinalIgnoreCase))
        {
            return [$"data is {type}; stream '{Version.Stream}' has a JSON Schema, so its events carry JSON data (datacontenttype application/json)"];
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(logEvent.Data.ToMemory());
        }
        catch (JsonException ex)
        {
            return [$"data is not JSON: {ex.Message.Split('\n')[0]}"];
        }

        using (document)
        {
            if (fast is not null)
            {
                var found = new List<string>(0);
                fast.Validate(document.RootElement, found);
                return found.Count == 0 ? [] : found.Distinct(StringComparer.Ordinal).ToList();
            }

            if (schema!.Evaluate(document.RootElement, Quick).IsValid)
            {
                return []; // the common case, without collecting details
            }

            EvaluationResults results = schema.Evaluate(document.RootElement, Detailed);

            var problems = new List<string>();
            foreach (EvaluationResults detail in results.Details ?? [])
            {
                if (detail.Errors is { Count: > 0 } errors)
                {
                    string path = "$" + detail.InstanceLocation.ToString().Replace('/', '.');
                    problems.AddRange(errors.Select(e => $"{(path == "$." ? "$" : path)}: {e.Value} ({e.Key})"));
                }
            }

            return problems.Count > 0 ? problems.Distinct(StringComparer.Ordinal).ToList() : ["the data does not match the schema"];
        }
    }

    /// <summary>Binary Avro of the schema, nothing after it: decoded once with the schema as both writer and reader.</summary>
    private IReadOnlyList<string> ValidateAvro(BinaryData data, string? type)
    {
        if (type is null || !(type.StartsWith("application/avro", StringComparison.OrdinalIgnoreCase) || type.StartsWith("avro/binary", StringComparison.OrdinalIgnoreCase)))
        {
            return [$"data is {type ?? "untyped"}; stream '{Version.Stream}' has an Avro schema, so its events carry binary Avro data (datacontenttype application/avro)"];
        }

        ReadOnlyMemory<byte> bytes = data.ToMemory();
        using var input = new MemoryStream(bytes.ToArray(), writable: false);
        try
        {
            new Avro.Generic.GenericDatumReader<object>(avro, avro).Read(null!, new Avro.IO.BinaryDecoder(input));
        }
        catch (Exception ex) when (ex is Avro.AvroException or EndOfStreamException or IOException or InvalidCastException or OverflowException or ArgumentException or IndexOutOfRangeException)
        {
            return [$"data is not binary Avro of schema version {Version.Version}: {ex.Message.Split('\n')[0]}"];
        }

        return input.Position == input.Length ? [] : [$"data holds {input.Length - input.Position} byte(s) after the Avro value of schema version {Version.Version}"];
    }
}
