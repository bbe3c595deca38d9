using System.Text.Json.Nodes;

namespace FaasEvents.Log.Schemas;

/// <summary>The language a stream's schema is written in; every version of one stream uses the same.</summary>
public enum SchemaFormat
{
    /// <summary>JSON Schema; events carry JSON data.</summary>
    Json,

    /// <summary>Apache Avro; events carry binary Avro data (datacontenttype application/avro).</summary>
    Avro,
}

/// <summary>Tells the formats apart.</summary>
public static class SchemaFormats
{
    /// <summary>Avro when the document is an Avro named type (record, enum, fixed), else JSON Schema.</summary>
    public static SchemaFormat Detect(string schema)
    {
        try
        {
            return JsonNode.Parse(schema) is JsonObject o && o["type"] is JsonValue t && t.TryGetValue(out string? type) && type is "record" or "enum" or "fixed"
                ? SchemaFormat.Avro
                : SchemaFormat.Json;
        }
        catch (System.Text.Json.JsonException)
        {
            return SchemaFormat.Json; // reported as invalid JSON by the parser that reads it
        }
    }

    /// <summary>The name used in documents and the CLI (json, avro).</summary>
    public static string Name(SchemaFormat format) => format == SchemaFormat.Avro ? "avro" : "json";
}
