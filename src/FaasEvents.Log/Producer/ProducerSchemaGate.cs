using FaasEvents.Log.Events;
using FaasEvents.Log.Schemas;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Producer;

/// <summary>
/// A producer's view of its stream's schema: the latest version's validator, looked up again at most every
/// <see cref="EventProducerOptions.SchemaRefreshInterval"/> (one listing; the document is downloaded only when a new
/// version appeared). A stream without a schema costs the same listing per interval and nothing per event.
/// </summary>
internal sealed class ProducerSchemaGate(StreamSchemasClient schemas, TimeProvider time, TimeSpan refresh)
{
    private volatile Snapshot? current;

    /// <summary>The validator of the stream's latest schema version, or null when it has none.</summary>
    public async ValueTask<SchemaValidator?> GetAsync(StreamDefinition definition)
    {
        Snapshot? seen = current;
        if (seen is not null && ReferenceEquals(seen.For, definition) && time.GetUtcNow() - seen.At < refresh)
        {
            return seen.Validator;
        }

        DateTimeOffset now = time.GetUtcNow();
        StreamSchema? latest = await schemas.GetLatestCoreAsync(definition, seen?.Known, CancellationToken.None);
        SchemaValidator? validator = latest is null ? null : ReferenceEquals(latest, seen?.Known) ? seen!.Validator : new SchemaValidator(latest);
        current = new Snapshot(definition, latest, validator, now);
        return validator;
    }

    /// <summary>
    /// The validator as last looked up, if that was within the refresh interval (so a caller can check its events on
    /// its own thread before they are queued); false when only the dispatcher's lookup can tell.
    /// </summary>
    public bool TryGetFresh(out SchemaValidator? validator)
    {
        Snapshot? seen = current;
        validator = seen?.Validator;
        return seen is not null && time.GetUtcNow() - seen.At < refresh;
    }

    /// <summary>
    /// Checks a call's events; on success each is stamped with the version's <c>dataschema</c> (unless it names a
    /// schema of its own elsewhere). Returns the refusal for the whole call, or null.
    /// </summary>
    public static EventLogException? Check(SchemaValidator validator, IReadOnlyList<LogEvent> events)
    {
        var problems = new List<string>();
        for (int i = 0; i < events.Count; i++)
        {
            foreach (string problem in validator.Validate(events[i]))
            {
                problems.Add(events.Count > 1 ? $"event {i} ('{events[i].Id}'): {problem}" : problem);
            }
        }

        if (problems.Count > 0)
        {
            string what = events.Count == 1 ? $"Event '{events[0].Id}' does not" : $"{problems.Select(p => p.Split(':')[0]).Distinct().Count()} of {events.Count} events do not";
            return new EventLogException(
                EventLogErrorReason.SchemaViolation,
                $"{what} match schema version {validator.Version.Version} of '{validator.Version.Stream}'; nothing of {(events.Count == 1 ? "it" : "the batch")} was written (faas schema show {validator.Version.Stream}):\n  {string.Join("\n  ", problems)}");
        }

        Uri dataSchema = validator.Version.DataSchema;
        foreach (LogEvent e in events)
        {
            if (e.DataSchema is null || e.DataSchema.StartsWith("faas:schemas/", StringComparison.Ordinal))
            {
                e.DataSchema = dataSchema.ToString();
            }
        }

        return null;
    }

    private sealed record Snapshot(StreamDefinition For, StreamSchema? Known, SchemaValidator? Validator, DateTimeOffset At);
}
