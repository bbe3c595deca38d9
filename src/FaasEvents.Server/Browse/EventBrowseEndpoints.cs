using FaasEvents.Log;
using FaasEvents.Server.Admin;

namespace FaasEvents.Server.Browse;

/// <summary><c>GET /streams/{stream}/events</c>: a page of a stream's events, filtered (the console's event browser).</summary>
internal static class EventBrowseEndpoints
{
    public static void MapEventBrowser(this WebApplication app)
    {
        app.MapGet("/streams/{stream}/events", (string stream, int? partition, string? from, string? cursor, string? key, string? type, string? id, int? limit, EventLogClient log, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () =>
            {
                EventQuery query = EventQuery.Parse(partition, from, cursor, key, type, id, limit);
                return Results.Json(await new EventBrowser(log).BrowseAsync(stream, query, ct));
            }));
    }
}
