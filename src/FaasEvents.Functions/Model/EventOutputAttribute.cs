namespace FaasEvents.Functions;

/// <summary>
/// Appends the function's return value to a stream: a <see cref="Log.Events.LogEvent"/>, a <c>CloudEvent</c>, a string,
/// a POCO (as JSON data), or a collection of those (fan-out); null appends nothing.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class EventOutputAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="stream">The stream to append to.</param>
    public EventOutputAttribute(string stream) => Stream = stream;

    /// <summary>Target stream.</summary>
    public string Stream { get; }

    /// <summary>CloudEvents <c>type</c> for POCO and string outputs. <value>Default: <c>{function}.output</c>.</value></summary>
    public string? Type { get; set; }

    /// <summary>Storage setting name, as for <see cref="EventTriggerAttribute.Connection"/>.</summary>
    public string? Connection { get; set; }
}
