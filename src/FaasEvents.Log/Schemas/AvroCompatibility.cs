using Avro;

namespace FaasEvents.Log.Schemas;

/// <summary>
/// Avro schema resolution as the Avro specification defines it (and the Confluent Schema Registry applies): can a
/// reader schema read data written with a writer schema? Named types match by full name (Apache.Avro keeps type
/// aliases private: a renamed type is a new type) and fields by name (or reader alias);
/// a reader field the writer lacks needs a default; writer fields the reader lacks are skipped; numbers promote
/// int -> long -> float -> double, string and bytes convert; enum symbols the writer may write must be the reader's
/// (or the reader has a default); unions resolve branch by branch. Findings are phrased as changes from old to new.
/// </summary>
internal static class AvroCompatibility
{
    /// <summary>Why <paramref name="newSchema"/> breaks <paramref name="mode"/> against <paramref name="oldSchema"/> (empty: compatible).</summary>
    public static IReadOnlyList<string> Check(Schema newSchema, Schema oldSchema, CompatibilityMode mode) =>
        CompatibilityDirections.Check(newSchema, oldSchema, mode, (reader, writer, readerIsNew, findings) => Reads(reader, writer, "$", readerIsNew, findings));

    /// <summary>Parses an Avro schema; a malformed one throws <see cref="EventLogException"/> (<see cref="EventLogErrorReason.InvalidSchema"/>).</summary>
    public static Schema Parse(string json)
    {
        try
        {
            return Schema.Parse(json);
        }
        catch (Exception ex) when (ex is SchemaParseException or AvroException or Newtonsoft.Json.JsonException)
        {
            throw new EventLogException(EventLogErrorReason.InvalidSchema, $"Invalid Avro schema: {ex.Message}", ex);
        }
    }

    private static void Reads(Schema reader, Schema writer, string path, bool readerIsNew, List<string> findings)
    {
        string why = CompatibilityDirections.Why(readerIsNew);
        void Add(string change) => findings.Add($"`{path}`: {change}; {why}");
        Schema oldSide = readerIsNew ? writer : reader, newSide = readerIsNew ? reader : writer;
        reader = Base(reader);
        writer = Base(writer);

        if (writer is UnionSchema writerUnion)
        {
            foreach (Schema branch in writerUnion.Schemas)
            {
                if (reader is UnionSchema ru ? !ru.Schemas.Any(r => Matches(r, branch)) : !Matches(reader, branch))
                {
                    Add(readerIsNew ? $"removed {Name(branch)} from the types it accepts; old events may hold one" : $"added {Name(branch)} to the types; old consumers cannot read it");
                }
                else
                {
                    Reads(reader is UnionSchema u ? u.Schemas.First(r => Matches(r, branch)) : reader, branch, path, readerIsNew, findings);
                }
            }

            return;
        }

        if (reader is UnionSchema readerUnion)
        {
            if (readerUnion.Schemas.FirstOrDefault(r => Matches(r, writer)) is { } match)
            {
                Reads(match, writer, path, readerIsNew, findings);
            }
            else
            {
                Add($"changed type from {Name(oldSide)} to {Name(newSide)}");
            }

            return;
        }

        if (!Matches(reader, writer))
        {
            Add($"changed type from {Name(oldSide)} to {Name(newSide)}");
            return;
        }

        switch (reader)
        {
            case RecordSchema r when writer is RecordSchema w:
                foreach (Field field in r.Fields)
                {
                    Field? written = w.Fields.FirstOrDefault(f => f.Name == field.Name) ?? w.Fields.FirstOrDefault(f => field.Aliases?.Contains(f.Name) == true);
                    if (written is not null)
                    {
                        Reads(field.Schema, written.Schema, $"{path}.{field.Name}", readerIsNew, findings);
                    }
                    else if (field.DefaultValue is null)
                    {
                        Add(readerIsNew ? $"added field `{field.Name}` without a default; old events lack it" : $"removed field `{field.Name}`, which has no default in the old schema; new events lack it");
                    }
                }

                break;
            case EnumSchema r when writer is EnumSchema w:
                string[] missing = w.Symbols.Where(s => !r.Symbols.Contains(s)).ToArray();
                if (missing.Length > 0 && r.Default is null)
                {
                    Add(readerIsNew ? $"removed enum symbol(s) {string.Join(", ", missing)} (and the enum has no default)" : $"added enum symbol(s) {string.Join(", ", missing)}, which the old enum (no default) cannot read");
                }

                break;
            case ArraySchema r when writer is ArraySchema w:
                Reads(r.ItemSchema, w.ItemSchema, path + "[]", readerIsNew, findings);
                break;
            case MapSchema r when writer is MapSchema w:
                Reads(r.ValueSchema, w.ValueSchema, path + ".*", readerIsNew, findings);
                break;
            case FixedSchema r when writer is FixedSchema w && r.Size != w.Size:
                Add($"changed the fixed size from {(readerIsNew ? w.Size : r.Size)} to {(readerIsNew ? r.Size : w.Size)}");
                break;
        }
    }

    /// <summary>Whether a value written as <paramref name="writer"/> can be read as <paramref name="reader"/> at this level (names, kinds, promotions).</summary>
    private static bool Matches(Schema reader, Schema writer)
    {
        reader = Base(reader);
        writer = Base(writer);
        if (reader is NamedSchema rn && writer is NamedSchema wn)
        {
            return rn.Tag == wn.Tag && rn.Fullname == wn.Fullname; // type aliases are not public in Apache.Avro: a renamed type is a new type
        }

        return reader.Tag == writer.Tag || (writer.Tag, reader.Tag) switch
        {
            (Schema.Type.Int, Schema.Type.Long or Schema.Type.Float or Schema.Type.Double) => true,
            (Schema.Type.Long, Schema.Type.Float or Schema.Type.Double) => true,
            (Schema.Type.Float, Schema.Type.Double) => true,
            (Schema.Type.String, Schema.Type.Bytes) or (Schema.Type.Bytes, Schema.Type.String) => true,
            _ => false,
        };
    }

    private static Schema Base(Schema s) => s is LogicalSchema logical ? logical.BaseSchema : s;

    private static string Name(Schema s) => Base(s) switch
    {
        NamedSchema n => $"{n.Tag.ToString().ToLowerInvariant()} {n.Fullname}",
        UnionSchema u => string.Join(" or ", u.Schemas.Select(Name)),
        var b => b.Tag.ToString().ToLowerInvariant(),
    };
}
