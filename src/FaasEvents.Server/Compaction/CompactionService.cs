using FaasEvents.Log;
using FaasEvents.Log.Compaction;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Maintenance;

namespace FaasEvents.Server.Compaction;

/// <summary>
/// Compacts every entity stream on a schedule (<c>FAAS_COMPACTION_INTERVAL</c>, a TimeSpan; default 00:10:00; 0 turns
/// it off). Each stream's own deleteRetention and minCompactionLag apply unless <c>FAAS_COMPACTION_DELETE_RETENTION</c>
/// or <c>FAAS_COMPACTION_MIN_LAG</c> (TimeSpans) override them for all streams. Several server replicas may run it at once: a rewrite is idempotent and crash-safe, so the worst case
/// is duplicated work, never a wrong log.
/// </summary>
public sealed class CompactionService : StreamPassService
{
    private readonly TimeSpan? deleteRetention;
    private readonly TimeSpan? minCompactionLag;

    /// <summary>Creates the service; a malformed setting throws naming it.</summary>
    public CompactionService(IConfiguration configuration, EventLogClient log, TimeProvider time, ILogger<CompactionService> logger)
        : base(configuration, FaasSettings.CompactionInterval, TimeSpan.FromMinutes(10), log, time, logger)
    {
        deleteRetention = configuration[FaasSettings.CompactionDeleteRetention] is { Length: > 0 } ? Span(configuration, FaasSettings.CompactionDeleteRetention, TimeSpan.Zero) : null;
        minCompactionLag = configuration[FaasSettings.CompactionMinLag] is { Length: > 0 } ? Span(configuration, FaasSettings.CompactionMinLag, TimeSpan.Zero) : null;
    }

    /// <inheritdoc/>
    protected override string PassName => "Compaction";

    /// <inheritdoc/>
    protected override bool AppliesTo(StreamDefinition stream) => stream.Kind == StreamKind.Entities;

    /// <inheritdoc/>
    protected override async Task RunAsync(StreamDefinition stream, CancellationToken cancellationToken)
    {
        var options = new CompactionOptions { DeleteRetention = deleteRetention ?? stream.DeleteRetention, MinCompactionLag = minCompactionLag ?? stream.MinCompactionLag };
        IReadOnlyList<PartitionCompaction> done = await Log.CompactAsync(stream.Name, options, cancellationToken: cancellationToken);
        long before = done.Sum(r => r.EventsRead), after = done.Sum(r => r.EventsKept);
        if (before > after)
        {
            Logger.LogInformation("Compacted '{Stream}': {Before} -> {After} events in closed segments, {Bytes} bytes freed", stream.Name, before, after, done.Sum(r => r.BytesBefore - r.BytesAfter));
        }
    }
}
