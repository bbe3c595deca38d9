using System.Collections.Concurrent;
using System.Globalization;
using FaasEvents.Functions.Runtime;
using FaasEvents.Log.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FaasEvents.Functions;

/// <summary>
/// Queries over materialized tables: <c>GET /materializers</c>, <c>GET /materializers/{name}/keys/{key}</c> and
/// <c>GET /materializers/{name}/keys?prefix=&amp;after=&amp;limit=</c>. Partitions this instance owns answer from
/// memory (freshest); the others from the committed state in storage, so answers come even for partitions owned
/// elsewhere or while the function is scaled to zero.
/// </summary>
internal static class MaterializerEndpoints
{
    private const int MaxLimit = 1000;

    public static void Map(WebApplication app, FunctionsAppSettings settings)
    {
        var readers = new ConcurrentDictionary<string, StateReader>(StringComparer.Ordinal);
        StateReader ReaderFor(FunctionsRuntime runtime, FunctionDefinition f) =>
            readers.GetOrAdd(f.Name, _ => runtime.ClientFor(f.Connection).CreateStateReader(f.ConsumerGroup, f.Stream));

        app.MapGet("/materializers", (FunctionsRuntime runtime) => Results.Json(settings.Functions.Where(f => f.IsMaterializer).Select(f => new
        {
            name = f.Name,
            stream = f.Stream,
            consumerGroup = f.ConsumerGroup,
            stateType = f.StateType!.Name,
            changelog = f.ChangelogStream,
            ownedPartitions = runtime.HostOf(f.Name)?.Tables.Keys.Order().ToList() ?? [],
            keysInMemory = runtime.HostOf(f.Name)?.Tables.Values.Sum(t => t.Count) ?? 0,
        })));

        app.MapGet("/materializers/{name}/keys/{key}", async (string name, string key, FunctionsRuntime runtime, HttpContext http) =>
        {
            if (Find(settings, name) is not { } f)
            {
                return UnknownMaterializer(settings, name);
            }

            StateReader reader = ReaderFor(runtime, f);
            int partition = await reader.PartitionOfAsync(key, http.RequestAborted);
            BinaryData? value;
            string source;
            if (runtime.HostOf(name)?.Tables.TryGetValue(partition, out MaterializedTable? table) == true)
            {
                value = table.GetSerialized(key);
                source = "memory";
            }
            else
            {
                value = (await reader.GetAsync(key, http.RequestAborted)).Value;
                source = "storage";
            }

            http.Response.Headers["X-Faas-Partition"] = partition.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["X-Faas-Source"] = source;
            return value is null
                ? Results.Problem(statusCode: 404, title: "Key not found", detail: $"Materializer '{name}' has no key '{key}' (absent or deleted; partition {partition}, read from {source}).")
                : Results.Bytes(value.ToArray(), StateReader.AsJson(value).ValueKind == System.Text.Json.JsonValueKind.String && !LooksLikeJsonString(value) ? "application/octet-stream" : "application/json");
        });

        app.MapGet("/materializers/{name}/keys", async (string name, string? prefix, string? after, int? limit, FunctionsRuntime runtime, HttpContext http) =>
        {
            if (Find(settings, name) is not { } f)
            {
                return UnknownMaterializer(settings, name);
            }

            int take = limit ?? 100;
            if (take is < 1 or > MaxLimit)
            {
                return Results.Problem(statusCode: 400, title: "Bad limit", detail: $"limit must be between 1 and {MaxLimit}, not {take}.");
            }

            FunctionHost? host = runtime.HostOf(name);
            StateReader reader = ReaderFor(runtime, f);
            int partitions = await reader.PartitionCountAsync(http.RequestAborted);
            var pages = await Task.WhenAll(Enumerable.Range(0, partitions).Select(async p =>
            {
                if (host?.Tables.TryGetValue(p, out MaterializedTable? table) == true)
                {
                    return table.Page(prefix, after, take).Items;
                }

                return (await reader.ScanPartitionAsync(p, prefix, after, take + 1, http.RequestAborted)).Items; // one more: SelectPage sees whether there are more
            }));
            (List<KeyValuePair<string, BinaryData>> items, string? next) = StateReader.SelectPage(pages, prefix, after, take);
            return Results.Json(new { items = items.Select(kv => new { key = kv.Key, value = StateReader.AsJson(kv.Value) }), next });
        });
    }

    /// <summary>True when the bytes are themselves a JSON string literal (AsJson falls back to a base64 string otherwise).</summary>
    private static bool LooksLikeJsonString(BinaryData value) => value.ToMemory().Span is [(byte)'"', ..];

    private static FunctionDefinition? Find(FunctionsAppSettings settings, string name) =>
        settings.Functions.FirstOrDefault(f => f.IsMaterializer && f.Name == name);

    private static IResult UnknownMaterializer(FunctionsAppSettings settings, string name) =>
        Results.Problem(statusCode: 404, title: "Unknown materializer", detail: $"This app has no materializer '{name}' (it has: {string.Join(", ", settings.Functions.Where(f => f.IsMaterializer).Select(f => f.Name).DefaultIfEmpty("none"))}).");
}
