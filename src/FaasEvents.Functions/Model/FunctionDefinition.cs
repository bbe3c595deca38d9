using System.Reflection;

namespace FaasEvents.Functions;

/// <summary>A discovered function: where it listens, as whom, and how it is called.</summary>
public sealed class FunctionDefinition
{
    internal FunctionDefinition(string name, MethodInfo method, EventTriggerAttribute trigger, TriggerShape shape, ParameterBinding[] parameters, ReturnShape returns, EventOutputAttribute? output, RetrySettings? retry, MaterializerTriggerAttribute? materializer = null)
    {
        StateType = materializer is null ? null : returns.ValueType;
        ChangelogStream = materializer is { Changelog: true } ? name + ".changelog" : null;
        Name = name;
        Method = method;
        Stream = trigger.Stream;
        ConsumerGroup = trigger.ConsumerGroup ?? name;
        Connection = trigger.Connection ?? FunctionsDefaults.ConnectionSetting;
        Consumption = trigger.Mode;
        Shape = shape;
        Parameters = parameters;
        Returns = returns;
        Output = output;
        Retry = retry;
        Invoke = GeneratedFunctions.InvokerFor(method);
    }

    /// <summary>Function name.</summary>
    public string Name { get; }

    /// <summary>Kind for listings: <c>event</c> (one event per invocation), <c>batch</c>, <c>materializer</c>, or <c>queue</c> (queue consumption).</summary>
    public string Kind => IsMaterializer ? "materializer" : IsQueue ? "queue" : Shape.IsBatch ? "batch" : "event";

    /// <summary>How the function's group consumes its stream (<see cref="EventTriggerAttribute.Mode"/>).</summary>
    public Consumption Consumption { get; }

    /// <summary>True when the stream is consumed as a queue.</summary>
    public bool IsQueue => Consumption == Consumption.Queue;

    /// <summary>True for a materializer (<see cref="MaterializerTriggerAttribute"/>).</summary>
    public bool IsMaterializer => StateType is not null;

    /// <summary>A materializer's state type (its return type); null for other functions.</summary>
    public Type? StateType { get; }

    /// <summary>
    /// True for a materializer whose new state depends on the current one (<see cref="CurrentStateAttribute"/>): it
    /// needs every event of its stream, so that stream must not be compacted (keep it an events stream).
    /// </summary>
    public bool FoldsHistory => IsMaterializer && Parameters.Any(p => p.Kind == ParameterKind.State);

    /// <summary>A materializer's changelog stream (<c>{name}.changelog</c>) when it publishes one.</summary>
    public string? ChangelogStream { get; }

    /// <summary>Triggering stream.</summary>
    public string Stream { get; }

    /// <summary>Consumer group (default: the function name).</summary>
    public string ConsumerGroup { get; }

    /// <summary>Name of the storage setting.</summary>
    public string Connection { get; }

    /// <summary>Output stream, if the function has one.</summary>
    public string? OutputStream => Output?.Stream;

    /// <summary>The method.</summary>
    public MethodInfo Method { get; }

    internal TriggerShape Shape { get; }

    internal ParameterBinding[] Parameters { get; }

    internal ReturnShape Returns { get; }

    internal EventOutputAttribute? Output { get; }

    /// <summary>The source generator's invoker of <see cref="Method"/>; null when the app was built without it (reflection then).</summary>
    internal Func<object?, object?[], object?>? Invoke { get; }

    /// <summary>Retry declared on the method; null = host.json's.</summary>
    internal RetrySettings? Retry { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Kind}) on {Stream} as {ConsumerGroup}{(OutputStream is null ? "" : " -> " + OutputStream)}";
}
