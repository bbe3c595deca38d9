using System.Reflection;
using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Streams;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions;

/// <summary>Finds <c>[Function]</c> methods and checks their signatures.</summary>
public static class FunctionDiscovery
{
    /// <summary>Discovers the functions of <paramref name="types"/>; throws <see cref="FunctionIndexingException"/> listing every problem.</summary>
    public static IReadOnlyList<FunctionDefinition> Discover(IEnumerable<Type> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        var problems = new List<string>();
        var found = new List<FunctionDefinition>();
        foreach (Type type in types.OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<FunctionAttribute>() is { } fn)
                {
                    FunctionDefinition? def = Index(method, fn, problems);
                    if (def is not null)
                    {
                        found.Add(def);
                    }
                }
            }
        }

        foreach (IGrouping<string, FunctionDefinition> dup in found.GroupBy(f => f.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"function name '{dup.Key}' is used by {string.Join(" and ", dup.Select(d => Where(d.Method)))}; names must be unique");
        }

        // One consumer group on one stream is one reader: two functions in it would each get only some partitions.
        foreach (var shared in found.GroupBy(f => (f.Connection, f.Stream, f.ConsumerGroup)).Where(g => g.Count() > 1))
        {
            problems.Add($"consumer group '{shared.Key.ConsumerGroup}' on stream '{shared.Key.Stream}' is used by {string.Join(" and ", shared.Select(d => $"'{d.Name}' ({Where(d.Method)})"))}: each would get only some of its partitions' events; give each function its own ConsumerGroup");
        }

        if (problems.Count > 0)
        {
            throw new FunctionIndexingException(problems);
        }

        return found;
    }

    /// <summary>Discovers the functions of an assembly.</summary>
    public static IReadOnlyList<FunctionDefinition> Discover(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return Discover(assembly.GetTypes());
    }

    internal static string Where(MethodInfo m) => $"{m.DeclaringType?.FullName}.{m.Name}";

    private static FunctionDefinition? Index(MethodInfo method, FunctionAttribute fn, List<string> problems)
    {
        string where = $"[Function(\"{fn.Name}\")] {Where(method)}";
        int before = problems.Count;
        void Problem(string what) => problems.Add($"{where}: {what}");

        try
        {
            StreamDefinition.ValidateName(fn.Name, "function");
        }
        catch (EventLogException ex)
        {
            Problem(ex.Message);
        }

        if (method.IsGenericMethodDefinition)
        {
            Problem("a function cannot be a generic method");
        }

        if (!method.IsStatic && (method.DeclaringType!.IsAbstract || method.DeclaringType.IsGenericTypeDefinition))
        {
            Problem("an instance function must be declared on a concrete, non-generic class");
        }

        EventTriggerAttribute? trigger = null;
        MaterializerTriggerAttribute? materializer = null;
        ParameterInfo? stateParameter = null;
        TriggerShape? shape = null;
        var bindings = new List<ParameterBinding>();
        foreach (ParameterInfo p in method.GetParameters())
        {
            if (p.ParameterType.IsByRef)
            {
                Problem($"parameter '{p.Name}' is ref/out; functions take inputs only");
                continue;
            }

            EventTriggerAttribute? t = p.GetCustomAttribute<EventTriggerAttribute>();
            if (p.GetCustomAttribute<MaterializerTriggerAttribute>() is { } m)
            {
                materializer ??= m;
                t ??= new EventTriggerAttribute(m.Stream) { ConsumerGroup = m.ConsumerGroup, Connection = m.Connection };
            }

            if (t is not null)
            {
                if (trigger is not null)
                {
                    Problem($"parameter '{p.Name}' has a second trigger ([EventTrigger] or [MaterializerTrigger]); a function has exactly one trigger");
                    continue;
                }

                trigger = t;
                try
                {
                    StreamDefinition.ValidateName(t.Stream, "stream");
                    if (t.ConsumerGroup is not null)
                    {
                        StreamDefinition.ValidateName(t.ConsumerGroup, "consumer group");
                    }
                }
                catch (EventLogException ex)
                {
                    Problem($"[EventTrigger] on '{p.Name}': {ex.Message}");
                }

                shape = ShapeOf(p.ParameterType, out string? why);
                if (shape is null)
                {
                    Problem($"trigger parameter '{p.Name}' has type {Pretty(p.ParameterType)}, which cannot be bound: {why}");
                }

                bindings.Add(new ParameterBinding(ParameterKind.Trigger, p.ParameterType, p.Name!));
            }
            else if (p.GetCustomAttribute<CurrentStateAttribute>() is not null)
            {
                stateParameter = p;
                bindings.Add(new ParameterBinding(ParameterKind.State, p.ParameterType, p.Name!));
            }
            else if (p.GetCustomAttribute<EntityKeyAttribute>() is not null)
            {
                if (p.ParameterType != typeof(string))
                {
                    Problem($"[EntityKey] parameter '{p.Name}' must be a string, not {Pretty(p.ParameterType)}");
                }

                bindings.Add(new ParameterBinding(ParameterKind.Key, p.ParameterType, p.Name!));
            }
            else if (p.ParameterType == typeof(FunctionContext))
            {
                bindings.Add(new ParameterBinding(ParameterKind.Context, p.ParameterType, p.Name!));
            }
            else if (p.ParameterType == typeof(CancellationToken))
            {
                bindings.Add(new ParameterBinding(ParameterKind.CancellationToken, p.ParameterType, p.Name!));
            }
            else if (p.ParameterType == typeof(ILogger))
            {
                bindings.Add(new ParameterBinding(ParameterKind.Logger, p.ParameterType, p.Name!));
            }
            else
            {
                bindings.Add(new ParameterBinding(ParameterKind.Service, p.ParameterType, p.Name!)); // checked against DI at start-up
            }
        }

        if (trigger is null)
        {
            Problem("no parameter has [EventTrigger(\"stream\")] or [MaterializerTrigger(\"stream\")]; mark the parameter that receives the events");
        }

        if (trigger is { Mode: Consumption.Queue } && shape is { IsBatch: true })
        {
            Problem("consumes its stream as a queue (Mode = Consumption.Queue) but takes a batch; a queue function takes one event per invocation, each acknowledged on its own (scale with maxConcurrentCalls instead)");
        }

        ReturnShape returns = ReturnOf(method.ReturnType);
        EventOutputAttribute? output = method.GetCustomAttribute<EventOutputAttribute>();
        if (materializer is not null)
        {
            CheckMaterializer(returns, shape, stateParameter, output, Problem);
        }
        else if (stateParameter is not null)
        {
            Problem($"parameter '{stateParameter.Name}' has [CurrentState], which only a materializer ([MaterializerTrigger]) has");
        }
        else if (returns.ValueType is { } rt && output is null)
        {
            Problem($"returns {Pretty(rt)} but has no [EventOutput(\"stream\")]; return void/Task, or say where the result goes");
        }

        if (output is not null && materializer is null)
        {
            if (returns.ValueType is null)
            {
                Problem("has [EventOutput] but returns nothing; return the event(s) to append");
            }

            try
            {
                StreamDefinition.ValidateName(output.Stream, "stream");
            }
            catch (EventLogException ex)
            {
                Problem($"[EventOutput]: {ex.Message}");
            }
        }

        RetrySettings? retry = null;
        try
        {
            retry = RetrySettings.FromAttributes(method);
        }
        catch (FormatException ex)
        {
            Problem(ex.Message);
        }

        if (problems.Count > before || trigger is null || shape is null)
        {
            return null;
        }

        return new FunctionDefinition(fn.Name, method, trigger, shape, bindings.ToArray(), returns, output, retry, materializer);
    }

    private static void CheckMaterializer(ReturnShape returns, TriggerShape? shape, ParameterInfo? stateParameter, EventOutputAttribute? output, Action<string> problem)
    {
        if (returns.ValueType is not { } state)
        {
            problem("a materializer returns the key's new state (null deletes the key); it returns nothing");
        }
        else if (state == typeof(object) || state.IsInterface || state.IsAbstract || state.IsPointer || typeof(System.Collections.IEnumerable).IsAssignableFrom(state) && state != typeof(string))
        {
            problem($"a materializer's state type {Pretty(state)} must be a concrete type (a record/POCO, string or number), not an interface, object or collection");
        }
        else if (stateParameter is not null && stateParameter.ParameterType != state && Nullable.GetUnderlyingType(stateParameter.ParameterType) != state && Nullable.GetUnderlyingType(state) != stateParameter.ParameterType)
        {
            problem($"[CurrentState] parameter '{stateParameter.Name}' has type {Pretty(stateParameter.ParameterType)} but the materializer returns {Pretty(state)}; they must match");
        }

        if (shape is { IsBatch: true })
        {
            problem("a materializer folds one event at a time; its trigger parameter cannot be a collection");
        }

        if (output is not null)
        {
            try
            {
                StreamDefinition.ValidateName(output.Stream, "stream");
            }
            catch (EventLogException ex)
            {
                problem($"[EventOutput]: {ex.Message}");
            }
        }
    }

    private static TriggerShape? ShapeOf(Type type, out string? why)
    {
        why = null;
        Type? element = null;
        CollectionKind collection = CollectionKind.None;
        if (type.IsArray && type != typeof(byte[]))
        {
            element = type.GetElementType();
            collection = CollectionKind.Array;
        }
        else if (type.IsGenericType && type.GetGenericArguments().Length == 1)
        {
            Type def = type.GetGenericTypeDefinition();
            if (def == typeof(IReadOnlyList<>) || def == typeof(IList<>) || def == typeof(List<>) || def == typeof(IEnumerable<>) || def == typeof(IReadOnlyCollection<>) || def == typeof(ICollection<>))
            {
                element = type.GetGenericArguments()[0];
                collection = CollectionKind.List;
            }
        }

        Type single = element ?? type;
        ElementKind? kind = single == typeof(CloudEvent) ? ElementKind.CloudEvent
            : single == typeof(LogEvent) ? ElementKind.LogEvent
            : single == typeof(StoredEvent) ? ElementKind.StoredEvent
            : single == typeof(string) ? ElementKind.String
            : single == typeof(byte[]) ? ElementKind.Bytes
            : single == typeof(BinaryData) ? ElementKind.BinaryData
            : null;
        if (kind is null)
        {
            if (single == typeof(object) || single.IsInterface || single.IsAbstract || single.IsPointer || single.IsGenericTypeDefinition || typeof(Delegate).IsAssignableFrom(single))
            {
                why = "use CloudEvent, LogEvent, StoredEvent, string, byte[], BinaryData, a concrete POCO, or an array/IReadOnlyList of one of these";
                return null;
            }

            if (element is not null && element.IsArray && element != typeof(byte[]))
            {
                why = "nested collections are not supported";
                return null;
            }

            kind = ElementKind.Poco;
        }

        return new TriggerShape(kind.Value, single, collection);
    }

    private static ReturnShape ReturnOf(Type type)
    {
        if (type == typeof(void))
        {
            return new ReturnShape(AsyncKind.Sync, null);
        }

        if (type == typeof(Task))
        {
            return new ReturnShape(AsyncKind.Task, null);
        }

        if (type == typeof(ValueTask))
        {
            return new ReturnShape(AsyncKind.ValueTask, null);
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>))
        {
            return new ReturnShape(AsyncKind.Task, type.GetGenericArguments()[0]);
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            return new ReturnShape(AsyncKind.ValueTask, type.GetGenericArguments()[0]);
        }

        return new ReturnShape(AsyncKind.Sync, type);
    }

    internal static string Pretty(Type t) => t.IsGenericType
        ? $"{t.Name[..t.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", t.GetGenericArguments().Select(Pretty))}>"
        : t.Name;
}
