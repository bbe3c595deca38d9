using System.Text;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling;

namespace FaasEvents.Server.Ingress;

/// <summary>
/// Append notices, so nothing waits for a poll: <c>POST /streams/{stream}/appended</c> (a process that appended
/// directly to storage says where: the scaler wakes the function from zero and watchers read at once) and
/// <c>GET /streams/{stream}/appends</c> (server-sent events, one <c>data: p,q,...</c> line per notice naming the
/// partitions appended to; a comment line every 15 s keeps the connection alive). Both take the ingress's API key.
/// </summary>
internal static class AppendNoticeEndpoints
{
    /// <summary>How often an idle watch gets a keep-alive line (the client reconnects after 45 s of silence).</summary>
    internal static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static void MapAppendNotices(this WebApplication app)
    {
        app.MapPost("/streams/{stream}/appended", NoticeAsync);
        app.MapGet("/streams/{stream}/appends", WatchAsync);
    }

    private static async Task<IResult> NoticeAsync(string stream, HttpContext http, KnownStreams streams, LagService lag)
    {
        if (await CheckAsync(stream, http, streams) is { } refused)
        {
            return refused;
        }

        StreamDefinition def = (await streams.FindAsync(stream, http.RequestAborted))!;
        List<EventPosition> positions;
        try
        {
            positions = [];
            using JsonDocument doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            foreach (JsonElement e in doc.RootElement.EnumerateArray())
            {
                int partition = e.GetProperty("partition").GetInt32();
                long offset = e.GetProperty("offset").GetInt64();
                if (partition < 0 || partition >= def.Partitions || offset < 0)
                {
                    return Results.Problem(statusCode: 400, title: "Invalid notice", detail: $"Stream '{stream}' has partitions 0..{def.Partitions - 1}; partition {partition}, offset {offset} is not a position in it.");
                }

                positions.Add(new EventPosition(partition, offset));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return Results.Problem(statusCode: 400, title: "Invalid notice", detail: "Send a JSON array of {\"partition\": P, \"offset\": O}, the last offset appended to each partition.");
        }

        lag.NotifyAppended(stream, positions);
        return Results.NoContent();
    }

    private static async Task WatchAsync(string stream, HttpContext http, KnownStreams streams, LagService lag, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        if (await CheckAsync(stream, http, streams) is { } refused)
        {
            await refused.ExecuteAsync(http);
            return;
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        using AppendWatcher watcher = lag.Watchers.Watch(stream);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping); // a stopping server does not wait for watchers to leave
        CancellationToken ct = ended.Token;
        try
        {
            await WriteAsync(http, $": watching {stream}\n\n", ct);
            while (true)
            {
                IReadOnlyList<int> partitions = await watcher.TakeAsync(KeepAlive, time, ct);
                await WriteAsync(http, partitions.Count == 0 ? ":\n\n" : $"data: {string.Join(',', partitions)}\n\n", ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the instance went away, or the server is stopping (the instance reconnects to another replica)
        }
    }

    private static async Task WriteAsync(HttpContext http, string text, CancellationToken ct)
    {
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        await http.Response.Body.FlushAsync(ct);
    }

    private static async Task<IResult?> CheckAsync(string stream, HttpContext http, KnownStreams streams)
    {
        try
        {
            StreamDefinition.ValidateName(stream, "stream");
        }
        catch (EventLogException ex)
        {
            return Results.Problem(statusCode: 400, title: "Invalid stream name", detail: ex.Message);
        }

        return await streams.FindAsync(stream, http.RequestAborted) is null
            ? Results.Problem(statusCode: 404, title: "Stream not found", detail: $"Stream '{stream}' does not exist. Create it first (faas streams create {stream} --partitions N).")
            : null;
    }
}
