using System.Globalization;

namespace FaasEvents.Log.Schemas;

/// <summary>
/// Decides whether a consumer reading with one schema (the reader) accepts every event valid under another (the
/// writer): backward = the new schema reads the old one's events, forward = the old reads the new's. Each finding is
/// phrased as the change from the old schema to the new one, with its path.
/// </summary>
internal static class SchemaCompatibility
{
    /// <summary>Why <paramref name="newSchema"/> breaks <paramref name="mode"/> against <paramref name="oldSchema"/> (empty: compatible).</summary>
    public static IReadOnlyList<string> Check(SchemaNode newSchema, SchemaNode oldSchema, CompatibilityMode mode) =>
        CompatibilityDirections.Check(newSchema, oldSchema, mode, (reader, writer, readerIsNew, findings) => Covers(reader, writer, "$", readerIsNew, findings));

    /// <summary>Adds to <paramref name="findings"/> what the writer's events may hold that the reader refuses.</summary>
    private static void Covers(SchemaNode reader, SchemaNode writer, string path, bool readerIsNew, List<string> findings)
    {
        string why = CompatibilityDirections.Why(readerIsNew);
        void Add(string change) => findings.Add($"`{path}`: {change}; {why}");
        SchemaNode oldSide = readerIsNew ? writer : reader, newSide = readerIsNew ? reader : writer;

        if (writer.Nothing)
        {
            return;
        }

        if (reader.Nothing)
        {
            Add(readerIsNew ? "the new schema accepts nothing (false)" : "the old schema accepted nothing (false)");
            return;
        }

        string[] lost = writer.Types.Except(reader.Types).Where(t => !(t == "integer" && reader.Types.Contains("number"))).Order(StringComparer.Ordinal).ToArray();
        if (lost.Length > 0)
        {
            string narrowed = oldSide.Types.Contains("number") && !newSide.Types.Contains("number") && newSide.Types.Contains("integer") ? " (narrowed number to integer)"
                : !oldSide.Types.Contains("number") && oldSide.Types.Contains("integer") && newSide.Types.Contains("number") ? " (widened integer to number)" : "";
            Add($"changed type from {Types(oldSide)} to {Types(newSide)}{narrowed}: {(readerIsNew ? "old events" : "new events")} may be {string.Join(" or ", lost)}");
        }

        if (reader.Types.Contains("object") && writer.Types.Contains("object"))
        {
            CoversObject(reader, writer, path, readerIsNew, findings, Add);
        }

        if (reader.Types.Contains("array") && writer.Types.Contains("array") && reader.Items is { } readerItems)
        {
            if (writer.Items is { } writerItems)
            {
                Covers(readerItems, writerItems, path + "[]", readerIsNew, findings);
            }
            else if (!AcceptsAnything(readerItems))
            {
                Add(readerIsNew ? "constrained the array's items, which were unconstrained" : "removed the constraint on the array's items");
            }
        }

        if (reader.Enum is { } allowed)
        {
            if (writer.Enum is null)
            {
                Add(readerIsNew ? $"restricted the values to {Values(allowed)}" : $"removed the restriction to {Values(allowed)}");
            }
            else if (writer.Enum.Except(allowed).Order(StringComparer.Ordinal).ToArray() is { Length: > 0 } missing)
            {
                Add(readerIsNew ? $"removed enum value(s) {Values(missing)}" : $"added enum value(s) {Values(missing)}");
            }
        }

        Bound(reader.Minimum, reader.ExclusiveMinimum, writer.Minimum, writer.ExclusiveMinimum, lower: true, "minimum", Add, readerIsNew, oldSide.Minimum, newSide.Minimum);
        Bound(reader.Maximum, reader.ExclusiveMaximum, writer.Maximum, writer.ExclusiveMaximum, lower: false, "maximum", Add, readerIsNew, oldSide.Maximum, newSide.Maximum);
        Bound(reader.MinLength, false, writer.MinLength, false, lower: true, "minLength", Add, readerIsNew, oldSide.MinLength, newSide.MinLength);
        Bound(reader.MaxLength, false, writer.MaxLength, false, lower: false, "maxLength", Add, readerIsNew, oldSide.MaxLength, newSide.MaxLength);
        Bound(reader.MinItems, false, writer.MinItems, false, lower: true, "minItems", Add, readerIsNew, oldSide.MinItems, newSide.MinItems);
        Bound(reader.MaxItems, false, writer.MaxItems, false, lower: false, "maxItems", Add, readerIsNew, oldSide.MaxItems, newSide.MaxItems);

        if (reader.Pattern is { } pattern && pattern != writer.Pattern)
        {
            Add($"changed the pattern from {Quote(oldSide.Pattern)} to {Quote(newSide.Pattern)}");
        }

        foreach ((string keyword, string value) in reader.Opaque)
        {
            if (!writer.Opaque.TryGetValue(keyword, out string? same) || same != value)
            {
                Add($"changed '{keyword}', which compatibility checks cannot reason about: keep it exactly as it was, or set the stream's compatibility to none");
            }
        }
    }

    private static void CoversObject(SchemaNode reader, SchemaNode writer, string path, bool readerIsNew, List<string> findings, Action<string> add)
    {
        foreach (string name in reader.Required.Where(r => !writer.Required.Contains(r)).Order(StringComparer.Ordinal))
        {
            bool declared = writer.Properties.ContainsKey(name);
            add(readerIsNew
                ? declared ? $"made field `{name}` required; old events may lack it" : $"added required field `{name}`; old events lack it"
                : declared ? $"made required field `{name}` optional; new events may lack it" : $"removed required field `{name}`; new events lack it");
        }

        foreach ((string name, SchemaNode written) in writer.Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (reader.Properties.TryGetValue(name, out SchemaNode? read))
            {
                Covers(read, written, $"{path}.{name}", readerIsNew, findings);
            }
            else if (reader.Closed)
            {
                add(readerIsNew
                    ? $"removed field `{name}` from a closed schema (additionalProperties: false), which refuses old events that hold it"
                    : $"added field `{name}`, which the old schema's closed content model (additionalProperties: false) refuses");
            }
            else if (reader.AdditionalProperties is { } extra)
            {
                Covers(extra, written, $"{path}.{name}", readerIsNew, findings);
            }
        }

        foreach ((string name, SchemaNode read) in reader.Properties.Where(p => !writer.Properties.ContainsKey(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (writer.AdditionalProperties is { } writerExtra)
            {
                Covers(read, writerExtra, $"{path}.{name}", readerIsNew, findings); // closed: never there (covers trivially)
            }
            else if (!AcceptsAnything(read) && !reader.Required.Contains(name)) // a new required field is reported as such above
            {
                add(readerIsNew
                    ? $"added field `{name}` to an open schema: old events may already hold a `{name}` of any type (close the old schema with additionalProperties: false before adding fields)"
                    : $"removed field `{name}` from an open schema: new events may hold a `{name}` of any type, which old consumers check as {Types(read)}");
            }
        }

        if (writer.AdditionalProperties is null && reader.AdditionalProperties is { } readerExtra && !AcceptsAnything(readerExtra))
        {
            add(readerIsNew
                ? "closed the content model (additionalProperties: false or a schema): old events may hold fields it does not declare"
                : "opened the content model: new events may hold fields the old schema refuses (additionalProperties)");
        }
        else if (writer.AdditionalProperties is { } we && reader.AdditionalProperties is { } re && !we.Nothing)
        {
            Covers(re, we, $"{path}.*", readerIsNew, findings);
        }
    }

    private static void Bound<T>(T? reader, bool readerExclusive, T? writer, bool writerExclusive, bool lower, string keyword, Action<string> add, bool readerIsNew, T? oldValue, T? newValue)
        where T : struct, IComparable<T>
    {
        if (reader is not { } r)
        {
            return;
        }

        bool narrower = writer is not { } w || (lower ? w.CompareTo(r) < 0 : w.CompareTo(r) > 0) || (w.CompareTo(r) == 0 && readerExclusive && !writerExclusive);
        if (narrower)
        {
            add($"{(readerIsNew ? "narrowed" : "widened")} {keyword} from {Show(oldValue)} to {Show(newValue)}");
        }
    }

    /// <summary>True when the schema accepts every JSON value.</summary>
    internal static bool AcceptsAnything(SchemaNode s) =>
        !s.Nothing && s.Types.Count == SchemaNode.AnyType.Count && s.Properties.Count == 0 && s.Required.Count == 0 && s.AdditionalProperties is null
        && s.Items is null && s.Enum is null && s.Minimum is null && s.Maximum is null && s.MinLength is null && s.MaxLength is null
        && s.MinItems is null && s.MaxItems is null && s.Pattern is null && s.Opaque.Count == 0;

    private static string Types(SchemaNode s) =>
        s.Types.Count == SchemaNode.AnyType.Count ? "any type" : string.Join(" or ", s.Types.Where(t => !(t == "integer" && s.Types.Contains("number"))).Order(StringComparer.Ordinal));

    private static string Values(IEnumerable<string> values) => string.Join(", ", values);

    private static string Quote(string? pattern) => pattern is null ? "none" : $"'{pattern}'";

    private static string Show<T>(T? value)
        where T : struct => value is { } v ? Convert.ToString(v, CultureInfo.InvariantCulture)! : "none";
}
