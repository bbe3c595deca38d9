namespace FaasEvents.Server.Sources;

/// <summary>One ping source (Knative's PingSource): a cron schedule that appends a CloudEvent to a stream.</summary>
public sealed class PingSourceOptions
{
    /// <summary>Unique name; the event source is <c>/faas/sources/ping/{name}</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>Cron schedule: 5 fields (minute precision) or 6 (with seconds first).</summary>
    public string Schedule { get; set; } = "";

    /// <summary>IANA or Windows time zone id. <value>Default: UTC.</value></summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Event data as text (JSON by default).</summary>
    public string? Data { get; set; }

    /// <summary>Event data as base64 (binary), instead of <see cref="Data"/>.</summary>
    public string? DataBase64 { get; set; }

    /// <summary>datacontenttype. <value>Default: application/json for Data, application/octet-stream for DataBase64.</value></summary>
    public string? ContentType { get; set; }

    /// <summary>Target stream.</summary>
    public string Stream { get; set; } = "";

    /// <summary>
    /// How far back a new leader fires ticks missed since the last one recorded (a failover gap, an outage); older
    /// missed ticks are logged and skipped. Zero fires only the ticks that fall due while leading.
    /// <value>Default: 1 hour; at most a day.</value>
    /// </summary>
    public TimeSpan CatchUp { get; set; } = TimeSpan.FromHours(1);
}
