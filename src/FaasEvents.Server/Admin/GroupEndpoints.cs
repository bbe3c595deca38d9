using FaasEvents.Log;
using FaasEvents.Log.Groups;

namespace FaasEvents.Server.Admin;

/// <summary>
/// The consumer-group operations of <c>faas groups</c> over HTTP (same semantics, same errors): list, describe, reset
/// (dry run first; refused with 409 while instances hold partitions unless forced) and delete.
/// </summary>
internal static class GroupEndpoints
{
    public static void MapGroups(this WebApplication app)
    {
        app.MapGet("/groups", (string? stream, EventLogClient log, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () => Results.Json(await log.Groups.ListAsync(stream, ct))));
        app.MapGet("/streams/{stream}/groups/{group}", (string stream, string group, EventLogClient log, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () => await log.Groups.DescribeQueueAsync(stream, group, ct) is { } queue
                ? Results.Json(queue) // a queue group: settled offset, unsettled, locks, redeliveries per partition
                : Results.Json(await log.Groups.DescribeAsync(stream, group, cancellationToken: ct))));
        app.MapPost("/streams/{stream}/groups/{group}/reset", (string stream, string group, GroupResetRequest body, EventLogClient log, ILoggerFactory loggers, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () =>
            {
                GroupResetTarget target = GroupResetTarget.Choose(body.To == "earliest", body.To == "latest", body.Offset, body.Time, body.ShiftBy);
                if (body.To is not (null or "earliest" or "latest"))
                {
                    throw new EventLogException(EventLogErrorReason.InvalidArgument, $"\"to\": \"{body.To}\": use \"earliest\" or \"latest\" (or \"offset\", \"time\", \"shiftBy\" instead of \"to\").");
                }

                IReadOnlyList<PartitionReset> plan = await log.Groups.ResetAsync(stream, group, target, body.Partition, body.DryRun, body.Force, ct);
                if (!body.DryRun)
                {
                    loggers.CreateLogger("FaasEvents.Server.Admin").LogWarning("Consumer group {Group} on {Stream} reset to {Target}{Force} (partitions {Partitions})", group, stream, target, body.Force ? ", owners fenced" : "", string.Join(",", plan.Select(p => p.Partition)));
                }

                return Results.Json(new { dryRun = body.DryRun, target = target.ToString(), partitions = plan });
            }));
        app.MapDelete("/streams/{stream}/groups/{group}", (string stream, string group, bool? force, EventLogClient log, ILoggerFactory loggers, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () =>
            {
                int deleted = await log.Groups.DeleteAsync(stream, group, force == true, ct);
                loggers.CreateLogger("FaasEvents.Server.Admin").LogWarning("Consumer group {Group} on {Stream} deleted ({Blobs} blobs)", group, stream, deleted);
                return Results.Json(new { deleted });
            }));
    }
}
