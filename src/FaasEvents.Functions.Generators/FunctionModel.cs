using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace FaasEvents.Functions.Generators;

/// <summary>One [Function] method as the generator saw it: what the index and invoker need, and what is wrong with it.</summary>
internal sealed class FunctionModel
{
    public FunctionModel(string name, string where, Location? location)
    {
        Name = name;
        Where = where;
        Location = location;
    }

    /// <summary>The function's name ([Function("name")]).</summary>
    public string Name { get; }

    /// <summary>"[Function(\"name\")] Namespace.Type.Method", as the runtime's messages name it.</summary>
    public string Where { get; }

    public Location? Location { get; }

    /// <summary>The declaring type, fully qualified with global::.</summary>
    public string DeclaringType { get; set; } = "";

    public string MethodName { get; set; } = "";

    public bool IsStatic { get; set; }

    /// <summary>The parameter types, fully qualified, in order.</summary>
    public List<string> ParameterTypes { get; } = [];

    /// <summary>True when the method returns void (or nothing to hand back).</summary>
    public bool ReturnsVoid { get; set; }

    /// <summary>True when generated code can call the method (it and every containing type are internal or public).</summary>
    public bool Accessible { get; set; }

    /// <summary>The trigger's stream and consumer group and connection (for the shared-group check); null without a trigger.</summary>
    public string? Stream { get; set; }

    public string? ConsumerGroup { get; set; }

    public string? Connection { get; set; }

    public List<Diagnostic> Problems { get; } = [];
}
