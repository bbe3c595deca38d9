using FaasEvents.Log.Events;
using FaasEvents.Log.Schemas;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Producer;

/// <summary>
/// A producer's view of its stream's contract: the latest schema version's validator and the stream's owner, looked up
/// again at most every <see cref="EventProducerOptions.SchemaRefreshInterval"/> (one listing; a document is downloaded
/// only when it changed). A stream without a contract costs the same listing per interval and nothing per event.
/// </summary>
internal sealed class ProducerSchemaGate(StreamSchemasClient schemas, TimeProvider time, TimeSpan refresh, string? identity)
{
    /// <summary>The extension attribute carrying the producer identity an event was appended as.</summary>
    public const string ProducerAttribute = "faasproducer";

    private volatile Snapshot? current;

    /// <summary>The contract to check a call against (looked up again when stale).</summary>
    public async ValueTask<Contract> GetAsync(StreamDefinition definition)
    {
        Snapshot? seen = current;
        if (seen is not null && ReferenceEquals(seen.View.For, definition) && time.GetUtcNow() - seen.At < refresh)
        {
            return seen.Contract;
        }

        DateTimeOffset now = time.GetUtcNow();
        ContractView view = await schemas.ReadContractAsync(definition, seen?.View, CancellationToken.None);
        SchemaValidator? validator = view.Schema is null ? null : ReferenceEquals(view.Schema, seen?.View.Schema) ? seen!.Contract.Validator : new SchemaValidator(view.Schema);
        var snapshot = new Snapshot(view, new Contract(validator, view.Owner), now);
        current = snapshot;
        return snapshot.Contract;
    }

    /// <summary>
    /// The contract as last looked up, if that was within the refresh interval (so a caller can check its events on
    /// its own thread before they are queued); false when only the dispatcher's lookup can tell.
    /// </summary>
    public bool TryGetFresh(out Contract contract)
    {
        Snapshot? seen = current;
        contract = seen?.Contract ?? Contract.Open;
        return seen is not null && time.GetUtcNow() - seen.At < refresh;
    }

    /// <summary>
    /// Checks a call's events: the producer must be the stream's owner (when it has one) and the data must match the
    /// latest schema. On success each event is stamped with the producer identity and the version's <c>dataschema</c>
    /// (unless it names a schema of its own elsewhere). Returns the refusal for the whole call, or null.
    /// </summary>
    public EventLogException? Check(Contract contract, string stream, IReadOnlyList<LogEvent> events)
    {
        if (Refusal(contract, stream, events) is { } refusal)
        {
            return refusal;
        }

        string? dataSchema = contract.Validator?.Version.DataSchema.ToString();
        foreach (LogEvent e in events)
        {
            if (dataSchema is not null && (e.DataSchema is null || e.DataSchema.StartsWith("faas:schemas/", StringComparison.Ordinal)))
            {
                e.DataSchema = dataSchema;
            }

            if (identity is not null)
            {
                e.Extensions[ProducerAttribute] = identity;
            }
        }

        return null;
    }

    /// <summary>Why the contract refuses the call (not the owner, or data that does not match), without stamping anything; null when it accepts it.</summary>
    public EventLogException? Refusal(Contract contract, string stream, IReadOnlyList<LogEvent> events)
    {
        if (contract.Owner is { } owner && !string.Equals(owner, identity, StringComparison.Ordinal))
        {
            return new EventLogException(
                EventLogErrorReason.NotStreamOwner,
                $"Stream '{stream}' has a single writer, '{owner}'; this producer is {(identity is null ? "anonymous (set EventProducerOptions.Identity or FAAS_IDENTITY; faas produce --as)" : $"'{identity}'")}. Nothing was written. Append as '{owner}', or transfer ownership: faas streams owner {stream} NEW-OWNER");
        }

        return contract.Validator is { } validator ? Validate(validator, events) : null;
    }

    private static EventLogException? Validate(SchemaValidator validator, IReadOnlyList<LogEvent> events)
    {
        var problems = new List<string>();
        for (int i = 0; i < events.Count; i++)
        {
            foreach (string problem in validator.Validate(events[i]))
            {
                problems.Add(events.Count > 1 ? $"event {i} ('{events[i].Id}'): {problem}" : problem);
            }
        }

        if (problems.Count == 0)
        {
            return null;
        }

        string what = events.Count == 1 ? $"Event '{events[0].Id}' does not" : $"{problems.Select(p => p.Split(':')[0]).Distinct().Count()} of {events.Count} events do not";
        return new EventLogException(
            EventLogErrorReason.SchemaViolation,
            $"{what} match schema version {validator.Version.Version} of '{validator.Version.Stream}'; nothing of {(events.Count == 1 ? "it" : "the batch")} was written (faas schema show {validator.Version.Stream}):\n  {string.Join("\n  ", problems)}");
    }

    /// <summary>What a call is checked against: the schema (null: none) and the owner (null: anyone may append).</summary>
    internal sealed record Contract(SchemaValidator? Validator, string? Owner)
    {
        public static readonly Contract Open = new(null, null);

        /// <summary>True when a call needs checking or stamping at all.</summary>
        public bool Applies(string? identity) => Validator is not null || Owner is not null || identity is not null;
    }

    private sealed record Snapshot(ContractView View, Contract Contract, DateTimeOffset At);
}
