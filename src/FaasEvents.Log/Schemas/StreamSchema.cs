namespace FaasEvents.Log.Schemas;

/// <summary>One registered version of a stream's schema.</summary>
/// <param name="Stream">The stream.</param>
/// <param name="Version">1, 2, ... in registration order.</param>
/// <param name="Schema">The JSON Schema document, as registered.</param>
/// <param name="RegisteredAt">When it was registered.</param>
/// <param name="Format">JSON Schema or Avro.</param>
public sealed record StreamSchema(string Stream, int Version, string Schema, DateTimeOffset RegisteredAt, SchemaFormat Format = SchemaFormat.Json)
{
    /// <summary>
    /// The URI events written with this version carry as their CloudEvents <c>dataschema</c>:
    /// <c>faas:schemas/{stream}/{version}</c>.
    /// </summary>
    public Uri DataSchema => DataSchemaFor(Stream, Version);

    /// <summary>The <c>dataschema</c> URI of a stream's schema version.</summary>
    public static Uri DataSchemaFor(string stream, int version) => new($"faas:schemas/{stream}/{version}");
}
