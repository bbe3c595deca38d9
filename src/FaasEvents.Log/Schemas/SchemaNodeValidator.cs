using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FaasEvents.Log.Schemas;

/// <summary>
/// Validates JSON against a <see cref="SchemaNode"/> directly: the keywords compatibility is decided on, checked in one
/// walk without building an evaluation tree (a few microseconds for a 1 KiB order). Schemas with keywords it does not
/// model (<see cref="SchemaNode.Opaque"/> anywhere) are validated by the general evaluator instead (<see cref="Supports"/>).
/// </summary>
internal sealed class SchemaNodeValidator(SchemaNode root)
{
    private readonly Dictionary<string, Regex> patterns = new(StringComparer.Ordinal);

    /// <summary>True when every keyword of the schema is one this validator checks.</summary>
    public static bool Supports(SchemaNode node, int depth = 0) =>
        depth < 64 && node.Opaque.Count == 0
        && node.Properties.Values.All(p => Supports(p, depth + 1))
        && (node.AdditionalProperties is null || Supports(node.AdditionalProperties, depth + 1))
        && (node.Items is null || Supports(node.Items, depth + 1));

    /// <summary>Adds each violation ("$.path: what (keyword)") to <paramref name="problems"/>.</summary>
    public void Validate(JsonElement value, List<string> problems) => Check(root, value, "$", problems);

    private void Check(SchemaNode s, JsonElement v, string path, List<string> problems)
    {
        if (s.Nothing)
        {
            problems.Add($"{path}: no value is allowed here (false)");
            return;
        }

        string type = TypeOf(v);
        if (!s.Types.Contains(type) && !(type == "integer" && s.Types.Contains("number")))
        {
            problems.Add($"{path}: {type} is not {string.Join(" or ", s.Types.Where(t => !(t == "integer" && s.Types.Contains("number"))).Order(StringComparer.Ordinal))} (type)");
            return;
        }

        if (s.Enum is { } allowed && !allowed.Contains(Canonical(v)))
        {
            problems.Add($"{path}: {Short(v)} is not one of {string.Join(", ", allowed)} (enum)");
        }

        switch (v.ValueKind)
        {
            case JsonValueKind.Object:
                CheckObject(s, v, path, problems);
                break;
            case JsonValueKind.Array:
                int count = v.GetArrayLength();
                if (count < s.MinItems)
                {
                    problems.Add($"{path}: {count} item(s), fewer than {s.MinItems} (minItems)");
                }

                if (count > s.MaxItems)
                {
                    problems.Add($"{path}: {count} item(s), more than {s.MaxItems} (maxItems)");
                }

                if (s.Items is { } items)
                {
                    int i = 0;
                    foreach (JsonElement item in v.EnumerateArray())
                    {
                        Check(items, item, $"{path}[{i++}]", problems);
                    }
                }

                break;
            case JsonValueKind.String:
                CheckString(s, v.GetString()!, path, problems);
                break;
            case JsonValueKind.Number:
                CheckNumber(s, v, path, problems);
                break;
        }
    }

    private void CheckObject(SchemaNode s, JsonElement v, string path, List<string> problems)
    {
        foreach (string name in s.Required)
        {
            if (!v.TryGetProperty(name, out _))
            {
                problems.Add($"{path}: required property '{name}' is missing (required)");
            }
        }

        foreach (JsonProperty p in v.EnumerateObject())
        {
            if (s.Properties.TryGetValue(p.Name, out SchemaNode? declared))
            {
                Check(declared, p.Value, $"{path}.{p.Name}", problems);
            }
            else if (s.AdditionalProperties is { } extra)
            {
                if (extra.Nothing)
                {
                    problems.Add($"{path}: property '{p.Name}' is not allowed (additionalProperties)");
                }
                else
                {
                    Check(extra, p.Value, $"{path}.{p.Name}", problems);
                }
            }
        }
    }

    private void CheckString(SchemaNode s, string text, string path, List<string> problems)
    {
        if (s.MinLength is not null || s.MaxLength is not null)
        {
            long length = CodePoints(text);
            if (length < s.MinLength)
            {
                problems.Add($"{path}: {length} character(s), fewer than {s.MinLength} (minLength)");
            }

            if (length > s.MaxLength)
            {
                problems.Add($"{path}: {length} character(s), more than {s.MaxLength} (maxLength)");
            }
        }

        if (s.Pattern is { } pattern)
        {
            Regex regex;
            lock (patterns)
            {
                if (!patterns.TryGetValue(pattern, out regex!))
                {
                    patterns[pattern] = regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                }
            }

            if (!regex.IsMatch(text))
            {
                problems.Add($"{path}: does not match '{pattern}' (pattern)");
            }
        }
    }

    private static void CheckNumber(SchemaNode s, JsonElement v, string path, List<string> problems)
    {
        if (s.Minimum is null && s.Maximum is null)
        {
            return;
        }

        decimal n = v.TryGetDecimal(out decimal d) ? d : (decimal)Math.Clamp(v.GetDouble(), (double)decimal.MinValue, (double)decimal.MaxValue);
        if (s.Minimum is { } min && (n < min || (s.ExclusiveMinimum && n == min)))
        {
            problems.Add($"{path}: {Short(v)} is less than {(s.ExclusiveMinimum ? "or equal to " : "")}the minimum {min.ToString(CultureInfo.InvariantCulture)} ({(s.ExclusiveMinimum ? "exclusiveMinimum" : "minimum")})");
        }

        if (s.Maximum is { } max && (n > max || (s.ExclusiveMaximum && n == max)))
        {
            problems.Add($"{path}: {Short(v)} is more than {(s.ExclusiveMaximum ? "or equal to " : "")}the maximum {max.ToString(CultureInfo.InvariantCulture)} ({(s.ExclusiveMaximum ? "exclusiveMaximum" : "maximum")})");
        }
    }

    private static string TypeOf(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => IsWhole(v) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static bool IsWhole(JsonElement v) => v.TryGetInt64(out _) || (v.TryGetDecimal(out decimal d) && d == decimal.Truncate(d));

    private static long CodePoints(string text)
    {
        long n = text.Length;
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                n--;
                i++;
            }
        }

        return n;
    }

    private static string Short(JsonElement v)
    {
        string raw = v.GetRawText();
        return raw.Length <= 40 ? raw : raw[..37] + "...";
    }

    /// <summary>The value as <see cref="SchemaNode.Canonical"/> writes enum values; primitives without building a node.</summary>
    private static string Canonical(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => JsonSerializer.Serialize(v.GetString()),
        JsonValueKind.Number when v.TryGetDecimal(out decimal d) => SchemaNode.Number(d),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        _ => SchemaNode.Canonical(System.Text.Json.Nodes.JsonNode.Parse(v.GetRawText())),
    };
}
