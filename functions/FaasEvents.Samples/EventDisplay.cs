using CloudNative.CloudEvents;
using FaasEvents.Functions;
using FaasEvents.Log.Events;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Samples;

/// <summary>Knative's event_display: logs every CloudEvent of the 'ping' stream readably (1:1, and N:1 with several producers).</summary>
public static class EventDisplayFunction
{
    [Function("event-display")]
    public static void Run([EventTrigger("ping")] CloudEvent cloudEvent, FunctionContext context)
    {
        context.Logger.LogInformation("{Event}", EventDisplay.Format(context.Events[0]));
    }
}
