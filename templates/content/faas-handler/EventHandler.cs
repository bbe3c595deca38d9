using FaasEvents.Functions;
using FaasEvents.Log.Events;
using Microsoft.Extensions.Logging;

namespace FaasApp;

/// <summary>Handles each event of the 'TRIGGER_STREAM' stream (in order per key; retried, then dead-lettered, when it throws).</summary>
public static class EventHandler
{
#if (hasOutput)
    /// <summary>Runs once per event; what it returns is appended to 'OUTPUT_STREAM' with the input's key.</summary>
    [Function("event-handler")]
    [EventOutput("OUTPUT_STREAM")]
    public static object Run([EventTrigger("TRIGGER_STREAM")] LogEvent e, ILogger logger)
    {
        logger.LogInformation("{Type} {Id} (key {Key})", e.Type, e.Id, e.PartitionKey);
        return new { handled = e.Id }; // bind a record of your own instead of LogEvent to get typed data
    }
#else
    /// <summary>Runs once per event.</summary>
    [Function("event-handler")]
    public static void Run([EventTrigger("TRIGGER_STREAM")] LogEvent e, ILogger logger)
    {
        logger.LogInformation("{Type} {Id} (key {Key})", e.Type, e.Id, e.PartitionKey); // bind a record of your own instead of LogEvent to get typed data
    }
#endif
}
