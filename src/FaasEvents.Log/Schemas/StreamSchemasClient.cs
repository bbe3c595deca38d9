using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Schemas;

/// <summary>
/// A stream's contract, kept beside it: versioned JSON Schemas and a compatibility mode (backward by default). A new
/// version is registered only if it keeps the mode's promise against the latest version (or every version, for the
/// transitive modes); registering the latest schema again returns its version. Versions are written with
/// <c>If-None-Match: *</c>, so two registrations at once get different versions, each checked against what it follows.
/// Stored under <c>schemas/{stream}/{created}/</c> (the stream's creation time), so a stream deleted and created again
/// starts with no schema.
/// </summary>
public sealed class StreamSchemasClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly StreamCatalog log;
    private readonly LogStore store;

    internal StreamSchemasClient(StreamCatalog streams, LogStore store)
    {
        log = streams;
        this.store = store;
    }

    /// <summary>Registers <paramref name="schema"/> as the stream's next version; an incompatible or malformed one throws naming each problem.</summary>
    public async Task<StreamSchema> RegisterAsync(string stream, string schema, CancellationToken cancellationToken = default)
    {
        for (int attempt = 0; ; attempt++)
        {
            StreamDefinition def = await log.GetStreamAsync(stream, cancellationToken);
            (SchemaCheck check, IReadOnlyList<StreamSchema> versions) = await CheckCoreAsync(def, schema, cancellationToken);
            if (check.SameAs is { } same)
            {
                return versions.Single(v => v.Version == same);
            }

            if (!check.Compatible)
            {
                throw new EventLogException(EventLogErrorReason.IncompatibleSchema, Refusal(stream, check));
            }

            int next = versions.Count == 0 ? 1 : versions[^1].Version + 1;
            var registered = new StreamSchema(def.Name, next, schema, store.TimeProvider.GetUtcNow(), SchemaFormats.Detect(schema));
            try
            {
                await Blob(def, next).UploadAsync(
                    BinaryData.FromObjectAsJson(new VersionDocument(registered.Version, registered.RegisteredAt, JsonNode.Parse(schema), SchemaFormats.Name(registered.Format)), Json),
                    new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All }, HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } },
                    cancellationToken);
                return registered;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 5)
            {
                // Another registration took this version: check against it too, then take the next.
            }
        }
    }

    /// <summary>Whether <paramref name="schema"/> would be registered, and why not, without registering it.</summary>
    public async Task<SchemaCheck> CheckAsync(string stream, string schema, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await log.GetStreamAsync(stream, cancellationToken);
        return (await CheckCoreAsync(def, schema, cancellationToken)).Check;
    }

    /// <summary>Every registered version, oldest first (empty: the stream has no schema).</summary>
    public async Task<IReadOnlyList<StreamSchema>> ListAsync(string stream, CancellationToken cancellationToken = default) =>
        await ListCoreAsync(await log.GetStreamAsync(stream, cancellationToken), cancellationToken);

    /// <summary>A version (the latest when null); null when the stream has no schema, and an unknown version throws.</summary>
    public async Task<StreamSchema?> GetAsync(string stream, int? version = null, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<StreamSchema> versions = await ListAsync(stream, cancellationToken);
        if (version is null)
        {
            return versions.Count == 0 ? null : versions[^1];
        }

        return versions.FirstOrDefault(v => v.Version == version) ?? throw new EventLogException(
            EventLogErrorReason.InvalidArgument,
            versions.Count == 0 ? $"Stream '{stream}' has no schema; register one: faas schema register {stream} FILE" : $"Stream '{stream}' has no schema version {version}; it has versions 1 to {versions[^1].Version}.");
    }

    /// <summary>The stream's compatibility mode (backward unless set).</summary>
    public async Task<CompatibilityMode> GetCompatibilityAsync(string stream, CancellationToken cancellationToken = default) =>
        await ReadModeAsync(await log.GetStreamAsync(stream, cancellationToken), cancellationToken);

    /// <summary>Sets the stream's compatibility mode; later registrations are checked by it.</summary>
    public async Task SetCompatibilityAsync(string stream, CompatibilityMode mode, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await log.GetStreamAsync(stream, cancellationToken);
        await store.Container.GetBlobClient(Prefix(def) + "config.json").UploadAsync(BinaryData.FromObjectAsJson(new ConfigDocument(ModeName(mode)), Json), overwrite: true, cancellationToken);
    }

    /// <summary>The stream's single writer, or null when any producer may append.</summary>
    public async Task<StreamOwner?> GetOwnerAsync(string stream, CancellationToken cancellationToken = default) =>
        (await ReadOwnerAsync(await log.GetStreamAsync(stream, cancellationToken), cancellationToken)).Owner;

    /// <summary>
    /// Makes <paramref name="owner"/> the stream's single writer (null lifts the rule), recording the transfer with
    /// <paramref name="by"/>; changed concurrently, it throws rather than lose either change.
    /// </summary>
    public async Task<StreamOwner?> SetOwnerAsync(string stream, string? owner, string by, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(by);
        if (owner is not null && (owner.Length is 0 or > 256 || owner.Any(char.IsControl) || owner.Trim() != owner))
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"'{owner}' is not a producer identity: 1 to 256 characters, no control characters or surrounding spaces.");
        }

        StreamDefinition def = await log.GetStreamAsync(stream, cancellationToken);
        (StreamOwner? current, ETag? etag) = await ReadOwnerAsync(def, cancellationToken);
        DateTimeOffset now = store.TimeProvider.GetUtcNow();
        var history = new List<OwnerTransfer>(current?.History ?? []) { new(current?.Owner, owner, now, by) };
        var doc = new OwnerDocument(owner, owner is null ? null : now, history);
        try
        {
            await store.Container.GetBlobClient(Prefix(def) + "owner.json").UploadAsync(
                BinaryData.FromObjectAsJson(doc, Json),
                new BlobUploadOptions { Conditions = etag is { } e ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"The owner of '{stream}' was changed by someone else meanwhile; look again (faas streams owner {stream}) and retry.", ex);
        }

        return owner is null ? null : new StreamOwner(def.Name, owner, now, history);
    }

    /// <summary>The mode's name as the CLI and documents write it (backward_transitive...).</summary>
    public static string ModeName(CompatibilityMode mode) => mode switch
    {
        CompatibilityMode.BackwardTransitive => "backward_transitive",
        CompatibilityMode.ForwardTransitive => "forward_transitive",
        CompatibilityMode.FullTransitive => "full_transitive",
        _ => mode.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses a mode name (backward, backward_transitive, forward, forward_transitive, full, full_transitive, none).</summary>
    public static CompatibilityMode ParseMode(string name) =>
        Enum.GetValues<CompatibilityMode>().FirstOrDefault(m => ModeName(m) == name?.Trim().ToLowerInvariant(), (CompatibilityMode)(-1)) is var m && Enum.IsDefined(m)
            ? m
            : throw new EventLogException(EventLogErrorReason.InvalidArgument, $"'{name}' is not a compatibility mode; use one of: {string.Join(", ", Enum.GetValues<CompatibilityMode>().Select(ModeName))}.");

    private async Task<(SchemaCheck Check, IReadOnlyList<StreamSchema> Versions)> CheckCoreAsync(StreamDefinition def, string schema, CancellationToken cancellationToken)
    {
        SchemaFormat format = SchemaFormats.Detect(schema);
        _ = format == SchemaFormat.Avro ? (object)AvroCompatibility.Parse(schema) : SchemaNode.Parse(schema); // a malformed schema is refused before anything else

        string canonical = SchemaNode.Canonical(JsonNode.Parse(schema));
        IReadOnlyList<StreamSchema> versions = await ListCoreAsync(def, cancellationToken);
        CompatibilityMode mode = await ReadModeAsync(def, cancellationToken);
        if (versions.Count > 0 && SchemaNode.Canonical(JsonNode.Parse(versions[^1].Schema)) == canonical)
        {
            return (new SchemaCheck(mode, [], [], versions[^1].Version), versions);
        }

        if (versions.Count > 0 && versions[^1].Format != format)
        {
            return (new SchemaCheck(mode, [versions[^1].Version], [$"`$`: changed the schema language from {Language(versions[^1].Format)} to {Language(format)}; a stream's versions keep one language (create a new stream for the other)"], null), versions);
        }

        bool transitive = mode is CompatibilityMode.BackwardTransitive or CompatibilityMode.ForwardTransitive or CompatibilityMode.FullTransitive;
        IReadOnlyList<StreamSchema> checkedAgainst = mode == CompatibilityMode.None || versions.Count == 0 ? [] : transitive ? versions : [versions[^1]];
        var problems = new List<string>();
        foreach (StreamSchema old in checkedAgainst)
        {
            IReadOnlyList<string> found = format == SchemaFormat.Avro
                ? AvroCompatibility.Check(AvroCompatibility.Parse(schema), AvroCompatibility.Parse(old.Schema), mode)
                : SchemaCompatibility.Check(SchemaNode.Parse(schema), SchemaNode.Parse(old.Schema), mode);
            problems.AddRange(found.Select(p => checkedAgainst.Count > 1 ? $"against version {old.Version}: {p}" : p));
        }

        return (new SchemaCheck(mode, checkedAgainst.Select(v => v.Version).ToList(), problems, null), versions);
    }

    private static string Language(SchemaFormat format) => format == SchemaFormat.Avro ? "Avro" : "JSON Schema";

    private static string Refusal(string stream, SchemaCheck check) =>
        $"Schema not registered for '{stream}': it breaks {ModeName(check.Mode)} compatibility with version{(check.Against.Count > 1 ? "s" : "")} {string.Join(", ", check.Against)} "
        + $"({check.Problems.Count} problem{(check.Problems.Count == 1 ? "" : "s")}; change the schema, or set another mode: faas schema compatibility {stream} MODE):\n  "
        + string.Join("\n  ", check.Problems);

    internal async Task<IReadOnlyList<StreamSchema>> ListCoreAsync(StreamDefinition def, CancellationToken cancellationToken)
    {
        var versions = new List<StreamSchema>();
        string prefix = Prefix(def);
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
            {
                string leaf = item.Name[prefix.Length..];
                if (IsVersion(leaf, out _))
                {
                    BinaryData content = (await store.Container.GetBlobClient(item.Name).DownloadContentAsync(cancellationToken)).Value.Content;
                    VersionDocument doc = content.ToObjectFromJson<VersionDocument>(Json) ?? throw new EventLogException(EventLogErrorReason.CorruptData, $"{item.Name} is empty.");
                    versions.Add(doc.ToSchema(def.Name));
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return versions.OrderBy(v => v.Version).ToList();
    }

    /// <summary>
    /// What a producer needs of the contract (latest schema version, owner) in one listing; a document is downloaded only
    /// when it changed since <paramref name="known"/>.
    /// </summary>
    internal async Task<ContractView> ReadContractAsync(StreamDefinition def, ContractView? known, CancellationToken cancellationToken)
    {
        string prefix = Prefix(def);
        int latest = 0;
        ETag? ownerTag = null;
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
            {
                string leaf = item.Name[prefix.Length..];
                if (IsVersion(leaf, out int v))
                {
                    latest = Math.Max(latest, v);
                }
                else if (leaf == "owner.json")
                {
                    ownerTag = item.Properties.ETag;
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        bool same = known is not null && ReferenceEquals(known.For, def);
        StreamSchema? schema = latest == 0 ? null
            : same && known!.Schema?.Version == latest ? known.Schema
            : await DownloadVersionAsync(def, latest, cancellationToken);
        string? owner = ownerTag is null ? null
            : same && known!.OwnerTag == ownerTag ? known.Owner
            : (await ReadOwnerAsync(def, cancellationToken)).Owner?.Owner;
        return new ContractView(def, schema, owner, ownerTag);
    }

    private async Task<StreamSchema> DownloadVersionAsync(StreamDefinition def, int version, CancellationToken cancellationToken)
    {
        BinaryData content = (await Blob(def, version).DownloadContentAsync(cancellationToken)).Value.Content;
        VersionDocument doc = content.ToObjectFromJson<VersionDocument>(Json) ?? throw new EventLogException(EventLogErrorReason.CorruptData, $"{Prefix(def)}{version:D6}.json is empty.");
        return doc.ToSchema(def.Name);
    }

    private async Task<CompatibilityMode> ReadModeAsync(StreamDefinition def, CancellationToken cancellationToken)
    {
        try
        {
            BinaryData content = (await store.Container.GetBlobClient(Prefix(def) + "config.json").DownloadContentAsync(cancellationToken)).Value.Content;
            return ParseMode(content.ToObjectFromJson<ConfigDocument>(Json)?.Compatibility ?? "backward");
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return CompatibilityMode.Backward;
        }
    }

    internal async Task<(StreamOwner? Owner, ETag? ETag)> ReadOwnerAsync(StreamDefinition def, CancellationToken cancellationToken)
    {
        try
        {
            Response<BlobDownloadResult> read = await store.Container.GetBlobClient(Prefix(def) + "owner.json").DownloadContentAsync(cancellationToken);
            OwnerDocument doc = read.Value.Content.ToObjectFromJson<OwnerDocument>(Json) ?? new OwnerDocument(null, null, []);
            return (doc.Owner is { } o ? new StreamOwner(def.Name, o, doc.Since ?? default, doc.History ?? []) : null, read.Value.Details.ETag);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return (null, null);
        }
    }

    /// <summary>True for a version document's name under the contract prefix (<c>000002.json</c>).</summary>
    private static bool IsVersion(string leaf, out int version)
    {
        version = 0;
        return leaf.Length == 11 && leaf.EndsWith(".json", StringComparison.Ordinal) && int.TryParse(leaf.AsSpan(0, 6), NumberStyles.None, CultureInfo.InvariantCulture, out version);
    }

    private BlobClient Blob(StreamDefinition def, int version) =>
        store.Container.GetBlobClient(Prefix(def) + version.ToString("D6", CultureInfo.InvariantCulture) + ".json");

    private static string Prefix(StreamDefinition def) => StoragePaths.SchemasPrefix(def.Name, def.CreatedAt);

    private sealed record VersionDocument(int Version, DateTimeOffset RegisteredAt, JsonNode? Schema, string? Format = null)
    {
        public StreamSchema ToSchema(string stream) =>
            new(stream, Version, Schema?.ToJsonString() ?? "true", RegisteredAt, Format == "avro" ? SchemaFormat.Avro : SchemaFormat.Json);
    }

    private sealed record ConfigDocument(string Compatibility);

    private sealed record OwnerDocument(string? Owner, DateTimeOffset? Since, IReadOnlyList<OwnerTransfer>? History);
}
