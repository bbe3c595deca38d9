namespace FaasEvents.Log.Telemetry;

/// <summary>
/// The names FaasEvents' traces and metrics are published under, for wiring OpenTelemetry (or any listener) to them:
/// <c>tracing.AddSource(FaasTelemetry.Name)</c> and <c>metrics.AddMeter(FaasTelemetry.Name)</c>. Spans and attributes
/// follow the OpenTelemetry messaging semantic conventions (<c>messaging.system</c> = <see cref="MessagingSystem"/>).
/// </summary>
public static class FaasTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> and of the <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string Name = "FaasEvents";

    /// <summary>The value of <c>messaging.system</c>.</summary>
    public const string MessagingSystem = "faasevents";
}
