using FaasEvents.Log;
using FaasEvents.Log.DeadLetters;

namespace FaasEvents.Server.Admin;

/// <summary>The dead-letter operations of <c>faas deadletter</c> over HTTP: list a group's dead letters, replay them.</summary>
internal static class DeadLetterEndpoints
{
    public static void MapDeadLetters(this WebApplication app)
    {
        app.MapGet("/streams/{stream}/groups/{group}/deadletters", (string stream, string group, string? type, string? id, string? deadLetterStream, EventLogClient log, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () =>
            {
                IReadOnlyList<DeadLetter> letters = await log.DeadLetters.ListAsync(stream, group, deadLetterStream, type, id, ct);
                return Results.Json(letters.Select(l => new { l.Id, l.Type, l.Key, l.Error, l.Attempts, source = new { stream = l.SourceStream, partition = l.SourcePartition, offset = l.SourceOffset }, deadLetter = new { partition = l.Partition, offset = l.Offset }, l.Omitted }));
            }));
        app.MapPost("/streams/{stream}/groups/{group}/deadletters/replay", (string stream, string group, DeadLetterReplayRequest body, EventLogClient log, ILoggerFactory loggers, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () =>
            {
                IReadOnlyList<DeadLetterReplay> results = await log.DeadLetters.ReplayAsync(stream, group, body.DeadLetterStream, body.Type, body.Id, body.To, body.DryRun, ct);
                if (!body.DryRun)
                {
                    loggers.CreateLogger("FaasEvents.Server.Admin").LogWarning("Replayed {Count} dead letter(s) of {Group} on {Stream} to {Target}", results.Count(r => r.To is not null), group, stream, body.To ?? stream);
                }

                return Results.Json(new { dryRun = body.DryRun, results });
            }));
    }
}
