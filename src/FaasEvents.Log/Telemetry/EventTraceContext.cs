using System.Diagnostics;
using FaasEvents.Log.Events;

namespace FaasEvents.Log.Telemetry;

/// <summary>
/// The CloudEvents distributed-tracing extension (<c>traceparent</c>, <c>tracestate</c>) on an event: producers stamp
/// the context the event was created in, consumers continue it (W3C Trace Context format).
/// </summary>
public static class EventTraceContext
{
    /// <summary>The extension attribute holding the W3C <c>traceparent</c>.</summary>
    public const string TraceParent = "traceparent";

    /// <summary>The extension attribute holding the W3C <c>tracestate</c>.</summary>
    public const string TraceState = "tracestate";

    /// <summary>Stamps <paramref name="context"/> on the event unless it already carries a trace context (the one it was created in stays).</summary>
    public static void Inject(LogEvent logEvent, ActivityContext context)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        if (context == default || logEvent.TryGetExtension(TraceParent, out _))
        {
            return;
        }

        string flags = (context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00";
        logEvent.Extensions[TraceParent] = $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{flags}";
        if (!string.IsNullOrEmpty(context.TraceState))
        {
            logEvent.Extensions[TraceState] = context.TraceState;
        }
    }

    /// <summary>The trace context the event was created in, when it carries a valid one.</summary>
    public static bool TryExtract(LogEvent logEvent, out ActivityContext context)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        context = default;
        if (!logEvent.TryGetExtension(TraceParent, out object? parent) || parent is not string traceParent)
        {
            return false;
        }

        string? traceState = logEvent.TryGetExtension(TraceState, out object? state) ? state as string : null;
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out context);
    }
}
