using FaasEvents.Log;
using FaasEvents.Log.State;
using FaasEvents.Server.Ingress;

namespace FaasEvents.Server.Admin;

/// <summary>
/// A materializer's table as its committed state in storage shows it (the same reads as <c>faas state</c>, so it works
/// while the function is scaled to zero): <c>GET /streams/{stream}/groups/{group}/state?key=</c> for one key,
/// <c>?prefix=&amp;after=&amp;limit=</c> for a page of keys in key order.
/// </summary>
internal static class StateEndpoints
{
    private const int MaxLimit = 500;

    public static void MapState(this WebApplication app) =>
        app.MapGet("/streams/{stream}/groups/{group}/state", (string stream, string group, string? key, string? prefix, string? after, int? limit, EventLogClient log, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () =>
            {
                if (limit is < 1 or > MaxLimit)
                {
                    return IngressEndpoints.Problem(400, "Invalid request", $"limit must be between 1 and {MaxLimit}, not {limit}.");
                }

                await log.GetPartitionsAsync(stream, ct); // an unknown stream is a 404 naming it
                IReadOnlyList<string> stateful = await log.FindStateStreamsAsync(group, ct);
                if (!stateful.Contains(stream, StringComparer.Ordinal))
                {
                    return IngressEndpoints.Problem(404, "No state", $"Consumer group '{group}' has no committed state for stream '{stream}': it is not a materializer's group, or the materializer has not committed yet (it commits within its stateCommitInterval of handling events).");
                }

                StateReader reader = log.CreateStateReader(group, stream);
                if (key is not null)
                {
                    StateEntry entry = await reader.GetAsync(key, ct);
                    return entry.Value is null
                        ? IngressEndpoints.Problem(404, "Key not found", $"Key '{key}' is not in the table of group '{group}' on stream '{stream}' (never written, or deleted by a tombstone); partition {entry.Partition} is committed up to offset {entry.NextOffset?.ToString() ?? "none"}.")
                        : Results.Json(new { key, partition = entry.Partition, value = StateReader.AsJson(entry.Value), nextOffset = entry.NextOffset });
                }

                StatePage page = await reader.ScanAsync(prefix, after, limit ?? 50, ct);
                return Results.Json(new { items = page.Items.Select(kv => new { key = kv.Key, value = StateReader.AsJson(kv.Value) }), next = page.Next });
            }));
}
