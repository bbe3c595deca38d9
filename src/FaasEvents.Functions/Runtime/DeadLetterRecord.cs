using System.Diagnostics;
using System.Globalization;
using FaasEvents.Log.DeadLetters;
using FaasEvents.Log.Events;
using FaasEvents.Log.Telemetry;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// The dead letter of one event: a copy with the <c>dlq*</c> attributes, made to fit the event size limit by a fixed
/// rule. An event near the limit plus the attributes would not fit and could never be written, so the copy leaves out
/// first the data, then the optional attributes (subject, dataschema, datacontenttype and the event's own
/// extensions but its trace context), and says so in <c>dlqomitted</c> (and the data's size in <c>dlqdatasize</c>). What was left out is
/// still in the source stream at <c>dlqstream</c>/<c>dlqpartition</c>/<c>dlqoffset</c> until retention removes it.
/// </summary>
internal static class DeadLetterRecord
{
    /// <summary>Makes the dead letter of <paramref name="stored"/> with <paramref name="attributes"/> (the dlq* set).</summary>
    public static LogEvent Create(StoredEvent stored, IReadOnlyDictionary<string, object> attributes)
    {
        LogEvent e = stored.Event;
        LogEvent whole = Copy(e, attributes, withData: true, withOptional: true);
        if (whole.EncodedSize <= LogEvent.MaxEncodedSize || e.Data is null)
        {
            return whole;
        }

        LogEvent noData = Copy(e, attributes, withData: false, withOptional: true);
        noData.Extensions[DeadLetterAttributes.Omitted] = "data";
        noData.Extensions[DeadLetterAttributes.DataSize] = e.Data.ToMemory().Length;
        if (noData.EncodedSize <= LogEvent.MaxEncodedSize)
        {
            return noData;
        }

        LogEvent bare = Copy(e, attributes, withData: false, withOptional: false);
        bare.Extensions[DeadLetterAttributes.Omitted] = "data,attributes";
        bare.Extensions[DeadLetterAttributes.DataSize] = e.Data.ToMemory().Length;
        return bare; // if even this is too large (a huge id, source or key) the append refuses it and the partition halts saying why
    }

    private static LogEvent Copy(LogEvent e, IReadOnlyDictionary<string, object> attributes, bool withData, bool withOptional)
    {
        var copy = new LogEvent(e.Id, e.Source, e.Type)
        {
            Time = e.Time,
            PartitionKey = e.PartitionKey,
            Data = withData ? e.Data : null,
        };
        if (withOptional)
        {
            copy.Subject = e.Subject;
            copy.DataContentType = e.DataContentType;
            copy.DataSchema = e.DataSchema;
            foreach (KeyValuePair<string, object> x in e.Extensions)
            {
                copy.Extensions[x.Key] = x.Value;
            }
        }
        else if (EventTraceContext.TryExtract(e, out ActivityContext trace))
        {
            EventTraceContext.Inject(copy, trace); // a few bytes that keep the dead letter in its event's trace
        }

        foreach (KeyValuePair<string, object> x in attributes)
        {
            copy.Extensions[x.Key] = x.Value;
        }

        return copy;
    }

    /// <summary>The dlq* attributes of a dead letter for the event at <paramref name="offset"/>.</summary>
    public static Dictionary<string, object> Attributes(string error, int attempts, FunctionDefinition function, int partition, long offset, DateTimeOffset now) => new(StringComparer.Ordinal)
    {
        [DeadLetterAttributes.Error] = error,
        [DeadLetterAttributes.Attempts] = attempts,
        [DeadLetterAttributes.Function] = function.Name,
        [DeadLetterAttributes.Group] = function.ConsumerGroup,
        [DeadLetterAttributes.Stream] = function.Stream,
        [DeadLetterAttributes.Partition] = partition,
        [DeadLetterAttributes.Offset] = offset.ToString(CultureInfo.InvariantCulture),
        [DeadLetterAttributes.Time] = now,
    };
}
