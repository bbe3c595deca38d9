using Microsoft.CodeAnalysis;

namespace FaasEvents.Functions.Generators;

/// <summary>The start-up checks of FunctionDiscovery as compiler errors: each names the method and the fix (docs/functions.md lists them).</summary>
internal static class Diagnostics
{
    private const string Category = "FaasEvents.Functions";

    public static readonly DiagnosticDescriptor InvalidName = Error("FAAS001", "Invalid name", "{0}: {1} name '{2}' is invalid: use 1-200 characters from a-z, A-Z, 0-9, '.', '_' and '-', starting with a letter or digit");

    public static readonly DiagnosticDescriptor GenericMethod = Error("FAAS002", "Function is generic", "{0}: a function cannot be a generic method; bind concrete types");

    public static readonly DiagnosticDescriptor RefParameter = Error("FAAS003", "ref/out parameter", "{0}: parameter '{1}' is ref/out; functions take inputs only");

    public static readonly DiagnosticDescriptor NoTrigger = Error("FAAS004", "No trigger", "{0}: no parameter has [EventTrigger(\"stream\")] or [MaterializerTrigger(\"stream\")]; mark the parameter that receives the events");

    public static readonly DiagnosticDescriptor SecondTrigger = Error("FAAS005", "Second trigger", "{0}: parameter '{1}' has a second trigger ([EventTrigger] or [MaterializerTrigger]); a function has exactly one trigger");

    public static readonly DiagnosticDescriptor UnbindableTrigger = Error("FAAS006", "Trigger type cannot be bound", "{0}: trigger parameter '{1}' has type {2}, which cannot be bound: {3}");

    public static readonly DiagnosticDescriptor EntityKeyNotString = Error("FAAS007", "[EntityKey] is not a string", "{0}: [EntityKey] parameter '{1}' must be a string, not {2}");

    public static readonly DiagnosticDescriptor StateWithoutMaterializer = Error("FAAS008", "[CurrentState] outside a materializer", "{0}: parameter '{1}' has [CurrentState], which only a materializer ([MaterializerTrigger]) has");

    public static readonly DiagnosticDescriptor ResultWithoutOutput = Error("FAAS009", "Result without [EventOutput]", "{0}: returns {1} but has no [EventOutput(\"stream\")]; return void/Task, or say where the result goes");

    public static readonly DiagnosticDescriptor OutputWithoutResult = Error("FAAS010", "[EventOutput] without a result", "{0}: has [EventOutput] but returns nothing; return the event(s) to append");

    public static readonly DiagnosticDescriptor BadMaterializer = Error("FAAS011", "Materializer signature", "{0}: {1}");

    public static readonly DiagnosticDescriptor DuplicateName = Error("FAAS012", "Duplicate function name", "{0}: function name '{1}' is also used by {2}; names must be unique");

    public static readonly DiagnosticDescriptor SharedGroup = Error("FAAS013", "Shared consumer group", "{0}: consumer group '{1}' on stream '{2}' is also used by {3}: each would get only some of its partitions' events; give each function its own ConsumerGroup");

    public static readonly DiagnosticDescriptor AbstractHost = Error("FAAS014", "Instance function on an abstract or generic class", "{0}: an instance function must be declared on a concrete, non-generic class; make it static or move it");

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: "https://github.com/faasevents/faasevents/blob/main/docs/functions.md#compile-time-checks-faas001-faas014");
}
