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
    private SchemaValidator? validator;
    private StreamSchema? known;
    private DateTimeOffset loadedAt = DateTimeOffset.MinValue;
    private StreamDefinition? loadedFor;

    /// <summary>The validator of the stream's latest schema version, or null when it has none.</summary>
    public async ValueTask<SchemaValidator?> GetAsync(StreamDefinition definition)
    {
        DateTimeOffset now = time.GetUtcNow();
        if (ReferenceEquals(loadedFor, definition) && now - loadedAt < refresh)
        {
            return validator;
        }

        StreamSchema? latest = await schemas.GetLatestCoreAsync(definition, known, CancellationToken.None);
        if (!ReferenceEquals(latest, known))
        {
            validator = latest is null ? null : new SchemaValidator(latest);
            known = latest;
        }

        loadedFor = definition;
        loadedAt = now;
        return validator;
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
}
