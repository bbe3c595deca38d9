using System.Diagnostics;
using System.Globalization;
using FaasEvents.Log.Events;

namespace FaasEvents.Log.Telemetry;

/// <summary>
/// The <c>send {stream}</c> span of a producer call, and the trace context each event carries from it: an event
/// without one is stamped with the send span (or, when nobody listens, the caller's current span), so its handler's
/// span continues the trace. The span ends when the call's events are in the log.
/// </summary>
internal static class ProducerActivity
{
    private static readonly ActivitySource Source = new(FaasTelemetry.Name);

    /// <summary>Starts the send span (null when nobody listens) and stamps the events; the caller's current span is left as it was.</summary>
    public static Activity? Start(string stream, int? partition, IReadOnlyList<LogEvent> events)
    {
        Activity? previous = Activity.Current;
        Activity? send = null;
        if (Source.HasListeners())
        {
            // With no span of the caller's, events that carry their own context (a function's outputs) are its continuation.
            ActivityContext parent = previous is null && SharedContext(events) is { } shared ? shared : default;
            send = Source.StartActivity($"send {stream}", ActivityKind.Producer, parent, Tags(stream, partition, events));
            Activity.Current = previous; // the span is the call's, not the caller's from now on
        }

        ActivityContext context = send?.Context ?? previous?.Context ?? default;
        if (context != default)
        {
            foreach (LogEvent e in events)
            {
                EventTraceContext.Inject(e, context);
            }
        }

        return send;
    }

    /// <summary>Ends <paramref name="send"/> once <paramref name="appended"/> completes, marking a failure as the span's error.</summary>
    public static void StopWhenDone(Activity? send, Task appended)
    {
        if (send is null)
        {
            return;
        }

        appended.ContinueWith(
            (t, state) =>
            {
                var activity = (Activity)state!;
                if (t.Exception?.InnerException is { } error)
                {
                    activity.SetStatus(ActivityStatusCode.Error, error.Message.Split('\n')[0]);
                    activity.SetTag(MessagingAttributes.ErrorType, error.GetType().FullName);
                }

                activity.Stop();
            },
            send,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static ActivityContext? SharedContext(IReadOnlyList<LogEvent> events)
    {
        ActivityContext? shared = null;
        foreach (LogEvent e in events)
        {
            if (!EventTraceContext.TryExtract(e, out ActivityContext c) || (shared is { } s && s.TraceId != c.TraceId))
            {
                return null;
            }

            shared ??= c;
        }

        return shared;
    }

    private static TagList Tags(string stream, int? partition, IReadOnlyList<LogEvent> events)
    {
        var tags = new TagList
        {
            { MessagingAttributes.System, FaasTelemetry.MessagingSystem },
            { MessagingAttributes.OperationName, "send" },
            { MessagingAttributes.OperationType, "send" },
            { MessagingAttributes.DestinationName, stream },
        };
        if (partition is { } p)
        {
            tags.Add(MessagingAttributes.PartitionId, p.ToString(CultureInfo.InvariantCulture));
        }

        if (events.Count == 1)
        {
            tags.Add(MessagingAttributes.MessageId, events[0].Id);
            if (events[0].PartitionKey is { } key)
            {
                tags.Add(MessagingAttributes.MessageKey, key);
            }

            if (events[0].IsTombstone)
            {
                tags.Add(MessagingAttributes.Tombstone, true);
            }
        }
        else
        {
            tags.Add(MessagingAttributes.BatchMessageCount, events.Count);
        }

        return tags;
    }
}
