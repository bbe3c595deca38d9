using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Streams;

namespace FaasEvents.Server.Maintenance;

/// <summary>
/// Applies each stream's retention on a schedule (<c>FAAS_RETENTION_INTERVAL</c>, a TimeSpan; default 00:10:00; 0 turns
/// it off): whole segments past the stream's age or size limit are deleted, never a partition's active segment, as
/// <c>faas streams retention</c> does. Several server replicas may run it at once: deleting a deleted segment is a no-op.
/// </summary>
public sealed class RetentionService : StreamPassService
{
    /// <summary>Creates the service; a malformed setting throws naming it.</summary>
    public RetentionService(IConfiguration configuration, EventLogClient log, TimeProvider time, ILogger<RetentionService> logger)
        : base(configuration, FaasSettings.RetentionInterval, TimeSpan.FromMinutes(10), log, time, logger)
    {
    }

    /// <inheritdoc/>
    protected override string PassName => "Retention";

    /// <inheritdoc/>
    protected override bool AppliesTo(StreamDefinition stream) => !stream.Retention.IsInfinite;

    /// <inheritdoc/>
    protected override async Task RunAsync(StreamDefinition stream, CancellationToken cancellationToken)
    {
        IReadOnlyList<DeletedSegment> deleted = await Log.ApplyRetentionAsync(stream.Name, cancellationToken);
        if (deleted.Count > 0)
        {
            Logger.LogInformation("Retention of '{Stream}' ({Retention}): deleted {Segments} segment(s), {Events} events, {Bytes} bytes", stream.Name, stream.Retention, deleted.Count, deleted.Sum(d => d.NextOffset - d.BaseOffset), deleted.Sum(d => d.Bytes));
        }
    }
}
