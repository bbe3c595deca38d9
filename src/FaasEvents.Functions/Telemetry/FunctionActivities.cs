using System.Diagnostics;
using System.Globalization;
using FaasEvents.Log.Events;
using FaasEvents.Log.Telemetry;

namespace FaasEvents.Functions.Telemetry;

/// <summary>
/// The runtime's spans, by the OpenTelemetry messaging conventions: <c>process {stream}</c> around each invocation try
/// (a consumer span that continues the trace its events were created in: their parent when they share one, links to
/// each event's context always), and <c>checkpoint {stream}</c> (a settle operation) around a checkpoint or state commit.
/// </summary>
internal static class FunctionActivities
{
    private static readonly ActivitySource Source = new(FaasTelemetry.Name);

    /// <summary>Starts the span of one invocation try (null when nobody listens); it is the current span until disposed.</summary>
    public static Activity? StartProcess(FunctionDefinition function, int partition, IReadOnlyList<StoredEvent> events, int attempt)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        List<ActivityLink>? links = null;
        ActivityContext? shared = null;
        bool oneTrace = true;
        foreach (StoredEvent e in events)
        {
            if (EventTraceContext.TryExtract(e.Event, out ActivityContext context))
            {
                (links ??= []).Add(new ActivityLink(context));
                oneTrace &= shared is null || shared.Value.TraceId == context.TraceId;
                shared ??= context;
            }
            else
            {
                oneTrace = false;
            }
        }

        ActivityContext parent = oneTrace && shared is { } p ? p : default;
        var tags = new TagList
        {
            { MessagingAttributes.System, FaasTelemetry.MessagingSystem },
            { MessagingAttributes.OperationName, "process" },
            { MessagingAttributes.OperationType, "process" },
            { MessagingAttributes.DestinationName, function.Stream },
            { MessagingAttributes.PartitionId, partition.ToString(CultureInfo.InvariantCulture) },
            { MessagingAttributes.ConsumerGroup, function.ConsumerGroup },
            { MessagingAttributes.FunctionName, function.Name },
            { MessagingAttributes.Offset, events[0].Offset },
        };
        if (events.Count == 1)
        {
            LogEvent e = events[0].Event;
            tags.Add(MessagingAttributes.MessageId, e.Id);
            if (e.PartitionKey is { } key)
            {
                tags.Add(MessagingAttributes.MessageKey, key);
            }

            if (e.IsTombstone)
            {
                tags.Add(MessagingAttributes.Tombstone, true);
            }
        }
        else
        {
            tags.Add(MessagingAttributes.BatchMessageCount, events.Count);
        }

        if (attempt > 0)
        {
            tags.Add("faas.retry.attempt", attempt);
        }

        // A root span (no parent) rather than the runtime's own context when the events do not share one trace.
        Activity.Current = null;
        return Source.StartActivity(ActivityKind.Consumer, parent, tags, links, name: $"process {function.Stream}");
    }

    /// <summary>Starts the span of a checkpoint (or a materializer's state commit) at <paramref name="nextOffset"/>.</summary>
    public static Activity? StartCheckpoint(FunctionDefinition function, int partition, long nextOffset)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity.Current = null; // the runtime's background work: its own trace
        return Source.StartActivity(ActivityKind.Client, default, new TagList
        {
            { MessagingAttributes.System, FaasTelemetry.MessagingSystem },
            { MessagingAttributes.OperationName, "checkpoint" },
            { MessagingAttributes.OperationType, "settle" },
            { MessagingAttributes.DestinationName, function.Stream },
            { MessagingAttributes.PartitionId, partition.ToString(CultureInfo.InvariantCulture) },
            { MessagingAttributes.ConsumerGroup, function.ConsumerGroup },
            { MessagingAttributes.FunctionName, function.Name },
            { MessagingAttributes.Offset, nextOffset },
        }, name: $"checkpoint {function.Stream}");
    }

    /// <summary>Marks the span failed with what was thrown.</summary>
    public static void Failed(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, error.Message.Split('\n')[0]);
        activity.SetTag(MessagingAttributes.ErrorType, error.GetType().FullName);
    }
}
