using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FaasEvents.Log.Schemas;

/// <summary>
/// The part of a JSON Schema that compatibility is decided on: types, object properties (required, closed or open),
/// array items, enums and bounds, with local <c>$ref</c>s (<c>#/$defs/...</c>, <c>#/definitions/...</c>) resolved.
/// Annotations (title, description, default, examples, $id, $schema, $comment) do not matter; any other keyword is
/// kept as <see cref="Opaque"/> and compared as written.
/// </summary>
internal sealed class SchemaNode
{
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal) { "$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "format", "contentMediaType", "contentEncoding" };

    private static readonly HashSet<string> Understood = new(StringComparer.Ordinal) { "type", "properties", "required", "additionalProperties", "items", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "pattern", "$ref" };

    /// <summary>All JSON types, for a schema that names none.</summary>
    public static readonly IReadOnlySet<string> AnyType = new HashSet<string>(StringComparer.Ordinal) { "null", "boolean", "object", "array", "number", "integer", "string" };

    /// <summary>True for the schema <c>false</c>: nothing is valid.</summary>
    public bool Nothing { get; private init; }

    /// <summary>The JSON types allowed (<c>integer</c> stands for whole numbers; <c>number</c> includes them).</summary>
    public IReadOnlySet<string> Types { get; private init; } = AnyType;

    public IReadOnlyDictionary<string, SchemaNode> Properties { get; private init; } = new Dictionary<string, SchemaNode>();

    public IReadOnlySet<string> Required { get; private init; } = new HashSet<string>();

    /// <summary>What undeclared properties must match: null = anything (an open content model).</summary>
    public SchemaNode? AdditionalProperties { get; private init; }

    /// <summary>True when <c>additionalProperties</c> is <c>false</c> (a closed content model).</summary>
    public bool Closed => AdditionalProperties is { Nothing: true };

    public SchemaNode? Items { get; private init; }

    /// <summary>The allowed values (enum or const), as canonical JSON text; null = any value of the types.</summary>
    public IReadOnlySet<string>? Enum { get; private init; }

    public decimal? Minimum { get; private init; }

    public decimal? Maximum { get; private init; }

    public bool ExclusiveMinimum { get; private init; }

    public bool ExclusiveMaximum { get; private init; }

    public long? MinLength { get; private init; }

    public long? MaxLength { get; private init; }

    public long? MinItems { get; private init; }

    public long? MaxItems { get; private init; }

    public string? Pattern { get; private init; }

    /// <summary>Keywords this model does not reason about (oneOf, anyOf, allOf, not, if, patternProperties...), as written.</summary>
    public IReadOnlyDictionary<string, string> Opaque { get; private init; } = new Dictionary<string, string>();

    /// <summary>Parses a schema document; a malformed one throws <see cref="EventLogException"/> (<see cref="EventLogErrorReason.InvalidSchema"/>) naming where.</summary>
    public static SchemaNode Parse(string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw Invalid($"the schema is not valid JSON: {ex.Message}");
        }

        return Parse(root, root, "$", 0);
    }

    private static SchemaNode Parse(JsonNode? node, JsonNode? root, string path, int depth)
    {
        if (depth > 64)
        {
            throw Invalid($"{path}: the schema nests (or refers to itself) more than 64 levels deep; recursive schemas are not supported.");
        }

        switch (node)
        {
            case JsonValue v when v.TryGetValue(out bool b):
                return b ? new SchemaNode() : new SchemaNode { Nothing = true };
            case JsonObject o:
                if (o["$ref"] is JsonValue refValue && refValue.TryGetValue(out string? reference))
                {
                    return Parse(Resolve(root, reference, path), root, path, depth + 1);
                }

                return ParseObject(o, root, path, depth);
            default:
                throw Invalid($"{path}: a schema must be an object or true/false, not {node?.ToJsonString() ?? "null"}.");
        }
    }

    private static SchemaNode ParseObject(JsonObject o, JsonNode? root, string path, int depth)
    {
        var properties = new Dictionary<string, SchemaNode>(StringComparer.Ordinal);
        if (o["properties"] is JsonObject props)
        {
            foreach ((string name, JsonNode? p) in props)
            {
                properties[name] = Parse(p, root, $"{path}.{name}", depth + 1);
            }
        }

        HashSet<string> types = o["type"] switch
        {
            null => [.. AnyType],
            JsonValue t when t.TryGetValue(out string? one) => [Type(one, path)],
            JsonArray many => [.. many.Select(t => Type(t?.GetValue<string>(), path))],
            var other => throw Invalid($"{path}.type: must be a type name or an array of them, not {other.ToJsonString()}."),
        };
        if (types.Contains("number"))
        {
            types.Add("integer"); // a number schema accepts whole numbers too
        }

        HashSet<string>? values = o["enum"] is JsonArray e ? [.. e.Select(Canonical)] : o["const"] is { } c ? [Canonical(c)] : null;
        return new SchemaNode
        {
            Types = types,
            Properties = properties,
            Required = o["required"] is JsonArray req ? req.Select(r => r?.GetValue<string>() ?? "").ToHashSet(StringComparer.Ordinal) : new HashSet<string>(StringComparer.Ordinal),
            AdditionalProperties = o["additionalProperties"] is { } ap ? Parse(ap, root, $"{path}.additionalProperties", depth + 1) : null,
            Items = o["items"] is { } items ? Parse(items, root, $"{path}[]", depth + 1) : null,
            Enum = values,
            Minimum = Number(o, "minimum", path) ?? Number(o, "exclusiveMinimum", path),
            ExclusiveMinimum = o["exclusiveMinimum"] is not null,
            Maximum = Number(o, "maximum", path) ?? Number(o, "exclusiveMaximum", path),
            ExclusiveMaximum = o["exclusiveMaximum"] is not null,
            MinLength = (long?)Number(o, "minLength", path),
            MaxLength = (long?)Number(o, "maxLength", path),
            MinItems = (long?)Number(o, "minItems", path),
            MaxItems = (long?)Number(o, "maxItems", path),
            Pattern = o["pattern"]?.GetValue<string>(),
            Opaque = o.Where(kv => !Understood.Contains(kv.Key) && !Annotations.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => Canonical(kv.Value), StringComparer.Ordinal),
        };
    }

    private static string Type(string? name, string path) =>
        name is not null && AnyType.Contains(name) ? name : throw Invalid($"{path}.type: '{name}' is not a JSON Schema type (null, boolean, object, array, number, integer, string).");

    private static decimal? Number(JsonObject o, string keyword, string path)
    {
        if (o[keyword] is not JsonValue v)
        {
            return null;
        }

        return v.TryGetValue(out decimal d) ? d : v.TryGetValue(out double x) ? (decimal)x : throw Invalid($"{path}.{keyword}: must be a number.");
    }

    private static JsonNode? Resolve(JsonNode? root, string reference, string path)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            throw Invalid($"{path}: $ref '{reference}' points outside the schema; only local references (#/$defs/Name) are supported.");
        }

        JsonNode? at = root;
        foreach (string part in reference[2..].Split('/'))
        {
            at = at is JsonObject o ? o[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)] : null;
        }

        return at ?? throw Invalid($"{path}: $ref '{reference}' does not point at anything in the schema.");
    }

    private static EventLogException Invalid(string message) => new(EventLogErrorReason.InvalidSchema, "Invalid schema: " + message);

    /// <summary>A number as canonical text: 3, 3.0 and 3.00 are the same value.</summary>
    internal static string Number(decimal d) => d.ToString("0.############################", CultureInfo.InvariantCulture);

    /// <summary>JSON text with object keys sorted, so equal values compare equal.</summary>
    internal static string Canonical(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject o => "{" + string.Join(",", o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => JsonSerializer.Serialize(kv.Key) + ":" + Canonical(kv.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        JsonValue v when v.TryGetValue(out decimal d) => Number(d),
        _ => node.ToJsonString(),
    };
}
