using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace FaasEvents.Functions;

/// <summary>
/// The function indexes generated apps register at load (module initializers): the runtime takes an assembly's
/// function types from here instead of scanning every type, and calls functions through the generated invokers
/// instead of <see cref="MethodBase.Invoke(object, object[])"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedFunctions
{
    private static readonly ConcurrentDictionary<Assembly, IReadOnlyList<GeneratedFunction>> Indexes = new();
    private static readonly ConcurrentDictionary<(Type, string, int), Func<object?, object?[], object?>> Invokers = new();

    /// <summary>Called by generated code: the functions of <paramref name="assembly"/>.</summary>
    public static void Register(Assembly assembly, GeneratedFunction[] functions)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(functions);
        Indexes[assembly] = functions;
        foreach (GeneratedFunction f in functions)
        {
            if (f.Invoke is { } invoke)
            {
                Invokers[(f.DeclaringType, f.MethodName, f.ParameterCount)] = invoke;
            }
        }
    }

    /// <summary>The generated index of <paramref name="assembly"/>, or null when it was built without the generator.</summary>
    internal static IReadOnlyList<GeneratedFunction>? For(Assembly assembly)
    {
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle); // the index registers itself when the module initializes
        return Indexes.GetValueOrDefault(assembly);
    }

    /// <summary>The generated invoker of <paramref name="method"/>, or null (reflection then).</summary>
    internal static Func<object?, object?[], object?>? InvokerFor(MethodInfo method) =>
        method.DeclaringType is { } type ? Invokers.GetValueOrDefault((type, method.Name, method.GetParameters().Length)) : null;
}
