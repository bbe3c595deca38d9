using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FaasEvents.Functions.Generators;

/// <summary>
/// Finds the [Function] methods of the compilation, reports what the runtime would refuse at start-up as compiler
/// errors (FAAS001..FAAS014), and generates the app's function index with a reflection-free invoker per function,
/// registered by a module initializer: the runtime then neither scans the assembly's types nor calls MethodInfo.Invoke.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class FunctionsGenerator : IIncrementalGenerator
{
    private const string FunctionAttribute = "FaasEvents.Functions.FunctionAttribute";
    private static readonly Regex NamePattern = new("^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$", RegexOptions.CultureInvariant);
    private static readonly SymbolDisplayFormat Qualified = SymbolDisplayFormat.FullyQualifiedFormat.WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier | SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<FunctionModel> functions = context.SyntaxProvider.ForAttributeWithMetadataName(
            FunctionAttribute,
            static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
            static (ctx, _) => Model((IMethodSymbol)ctx.TargetSymbol, ctx.Attributes[0]));
        context.RegisterSourceOutput(functions.Collect(), static (spc, all) => Emit(spc, all));
    }

    private static FunctionModel Model(IMethodSymbol method, AttributeData function)
    {
        string name = function.ConstructorArguments.Length > 0 ? function.ConstructorArguments[0].Value as string ?? "" : "";
        string where = $"[Function(\"{name}\")] {method.ContainingType.ToDisplayString()}.{method.Name}";
        Location? location = method.Locations.FirstOrDefault();
        var m = new FunctionModel(name, where, location)
        {
            DeclaringType = method.ContainingType.ToDisplayString(Qualified),
            MethodName = method.Name,
            IsStatic = method.IsStatic,
            ReturnsVoid = method.ReturnsVoid,
            Accessible = IsAccessible(method),
        };
        void Problem(DiagnosticDescriptor d, params object[] args) => m.Problems.Add(Diagnostic.Create(d, location, [where, .. args]));

        CheckName(name, "function", Problem);
        if (method.IsGenericMethod)
        {
            Problem(Diagnostics.GenericMethod);
        }

        if (!method.IsStatic && (method.ContainingType.IsAbstract || method.ContainingType.IsGenericType))
        {
            Problem(Diagnostics.AbstractHost);
        }

        bool materializer = false, hasState = false, triggerIsBatch = false;
        ITypeSymbol? stateParameterType = null;
        string? stateParameter = null;
        foreach (IParameterSymbol p in method.Parameters)
        {
            m.ParameterTypes.Add(p.Type.ToDisplayString(Qualified));
            if (p.RefKind is RefKind.Ref or RefKind.Out or RefKind.In)
            {
                Problem(Diagnostics.RefParameter, p.Name);
                continue;
            }

            AttributeData? trigger = p.GetAttributes().FirstOrDefault(a => Is(a, "EventTriggerAttribute") || Is(a, "MaterializerTriggerAttribute"));
            if (trigger is not null)
            {
                if (m.Stream is not null || p.GetAttributes().Count(a => Is(a, "EventTriggerAttribute") || Is(a, "MaterializerTriggerAttribute")) > 1)
                {
                    Problem(Diagnostics.SecondTrigger, p.Name);
                    continue;
                }

                materializer = Is(trigger, "MaterializerTriggerAttribute");
                m.Stream = trigger.ConstructorArguments.Length > 0 ? trigger.ConstructorArguments[0].Value as string ?? "" : "";
                m.ConsumerGroup = Named(trigger, "ConsumerGroup") ?? name;
                m.Connection = Named(trigger, "Connection") ?? "";
                CheckName(m.Stream, "stream", Problem);
                if (Named(trigger, "ConsumerGroup") is { } group)
                {
                    CheckName(group, "consumer group", Problem);
                }

                if (!Bindable(p.Type, out triggerIsBatch, out string why))
                {
                    Problem(Diagnostics.UnbindableTrigger, p.Name, p.Type.ToDisplayString(), why);
                }
            }
            else if (p.GetAttributes().Any(a => Is(a, "CurrentStateAttribute")))
            {
                hasState = true;
                stateParameter = p.Name;
                stateParameterType = p.Type;
            }
            else if (p.GetAttributes().Any(a => Is(a, "EntityKeyAttribute")) && p.Type.SpecialType != SpecialType.System_String)
            {
                Problem(Diagnostics.EntityKeyNotString, p.Name, p.Type.ToDisplayString());
            }
        }

        if (m.Stream is null)
        {
            Problem(Diagnostics.NoTrigger);
        }

        ITypeSymbol? result = ResultType(method);
        AttributeData? output = method.GetAttributes().FirstOrDefault(a => Is(a, "EventOutputAttribute"));
        if (output is not null)
        {
            CheckName(output.ConstructorArguments.Length > 0 ? output.ConstructorArguments[0].Value as string ?? "" : "", "output stream", Problem);
        }

        if (materializer)
        {
            if (result is null)
            {
                Problem(Diagnostics.BadMaterializer, "a materializer returns the key's new state (null deletes the key); it returns nothing");
            }
            else if (result.SpecialType == SpecialType.System_Object || result.TypeKind == TypeKind.Interface || result.IsAbstract || (IsCollection(result) && result.SpecialType != SpecialType.System_String))
            {
                Problem(Diagnostics.BadMaterializer, $"a materializer's state type {result.ToDisplayString()} must be a concrete type (a record/POCO, string or number), not an interface, object or collection");
            }
            else if (stateParameterType is not null && !SameIgnoringNullable(stateParameterType, result))
            {
                Problem(Diagnostics.BadMaterializer, $"[CurrentState] parameter '{stateParameter}' has type {stateParameterType.ToDisplayString()} but the materializer returns {result.ToDisplayString()}; they must match");
            }

            if (triggerIsBatch)
            {
                Problem(Diagnostics.BadMaterializer, "a materializer folds one event at a time; its trigger parameter cannot be a collection");
            }
        }
        else
        {
            if (hasState)
            {
                Problem(Diagnostics.StateWithoutMaterializer, stateParameter!);
            }
            else if (result is not null && output is null)
            {
                Problem(Diagnostics.ResultWithoutOutput, result.ToDisplayString());
            }

            if (output is not null && result is null)
            {
                Problem(Diagnostics.OutputWithoutResult);
            }
        }

        return m;
    }

    private static void Emit(SourceProductionContext spc, ImmutableArray<FunctionModel> all)
    {
        foreach (FunctionModel f in all)
        {
            foreach (Diagnostic d in f.Problems)
            {
                spc.ReportDiagnostic(d);
            }
        }

        foreach (IGrouping<string, FunctionModel> dup in all.GroupBy(f => f.Name).Where(g => g.Count() > 1))
        {
            foreach (FunctionModel f in dup)
            {
                spc.ReportDiagnostic(Diagnostic.Create(Diagnostics.DuplicateName, f.Location, f.Where, f.Name, string.Join(" and ", dup.Where(o => o != f).Select(o => o.Where))));
            }
        }

        foreach (IGrouping<(string?, string?, string?), FunctionModel> shared in all.Where(f => f.Stream is not null).GroupBy(f => (f.Connection, f.Stream, f.ConsumerGroup)).Where(g => g.Count() > 1))
        {
            foreach (FunctionModel f in shared)
            {
                spc.ReportDiagnostic(Diagnostic.Create(Diagnostics.SharedGroup, f.Location, f.Where, f.ConsumerGroup, f.Stream, string.Join(" and ", shared.Where(o => o != f).Select(o => o.Where))));
            }
        }

        List<FunctionModel> valid = [.. all.Where(f => f.Problems.Count == 0).OrderBy(f => f.Name, System.StringComparer.Ordinal)];
        if (valid.Count == 0)
        {
            return;
        }

        var sb = new StringBuilder();
        sb.AppendLine("// <auto-generated/> by FaasEvents.Functions.Generators: the app's function index and invokers.");
        sb.AppendLine("#nullable enable");
        sb.AppendLine("namespace FaasEvents.Functions.Generated");
        sb.AppendLine("{");
        sb.AppendLine("    [global::System.CodeDom.Compiler.GeneratedCode(\"FaasEvents.Functions.Generators\", \"1\")]");
        sb.AppendLine("    internal static class FunctionIndex");
        sb.AppendLine("    {");
        sb.AppendLine("        [global::System.Runtime.CompilerServices.ModuleInitializer]");
        sb.AppendLine("        internal static void Register() => global::FaasEvents.Functions.GeneratedFunctions.Register(typeof(FunctionIndex).Assembly, new global::FaasEvents.Functions.GeneratedFunction[]");
        sb.AppendLine("        {");
        foreach (FunctionModel f in valid)
        {
            sb.Append("            new global::FaasEvents.Functions.GeneratedFunction(").Append(Literal(f.Name)).Append(", typeof(").Append(f.DeclaringType).Append("), ").Append(Literal(f.MethodName)).Append(", ").Append(f.ParameterTypes.Count).Append(", ");
            sb.Append(f.Accessible ? Invoker(f) : "null").AppendLine("),");
        }

        sb.AppendLine("        });");
        sb.AppendLine("    }");
        sb.AppendLine("}");
        spc.AddSource("FaasEvents.FunctionIndex.g.cs", sb.ToString());
    }

    /// <summary>A lambda calling the method with the bound arguments: <c>static (target, args) =&gt; Type.Method((T0)args[0]!, ...)</c>.</summary>
    private static string Invoker(FunctionModel f)
    {
        string call = $"{(f.IsStatic ? f.DeclaringType : $"(({f.DeclaringType})target!)")}.{f.MethodName}({string.Join(", ", f.ParameterTypes.Select((t, i) => $"({t})args[{i}]!"))})";
        return f.ReturnsVoid ? $"static (target, args) => {{ {call}; return null; }}" : $"static (target, args) => {call}";
    }

    private static string Literal(string s) => SymbolDisplay.FormatLiteral(s, quote: true);

    private static bool Is(AttributeData a, string name) =>
        a.AttributeClass is { } c && c.Name == name && c.ContainingNamespace?.ToDisplayString() == "FaasEvents.Functions";

    private static string? Named(AttributeData a, string name) =>
        a.NamedArguments.FirstOrDefault(n => n.Key == name).Value.Value as string;

    private static void CheckName(string name, string what, System.Action<DiagnosticDescriptor, object[]> problem)
    {
        if (!NamePattern.IsMatch(name))
        {
            problem(Diagnostics.InvalidName, [what, name]);
        }
    }

    private static bool IsAccessible(IMethodSymbol method)
    {
        for (ISymbol? s = method; s is not null and not INamespaceSymbol; s = s.ContainingSymbol)
        {
            if (s.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The value a function hands back: T of T, Task&lt;T&gt; or ValueTask&lt;T&gt;; null for void, Task, ValueTask.</summary>
    private static ITypeSymbol? ResultType(IMethodSymbol method)
    {
        ITypeSymbol r = method.ReturnType;
        if (method.ReturnsVoid)
        {
            return null;
        }

        if (r is INamedTypeSymbol named && named.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks" && named.Name is "Task" or "ValueTask")
        {
            return named.TypeArguments.Length == 1 ? named.TypeArguments[0] : null;
        }

        return r;
    }

    private static bool Bindable(ITypeSymbol type, out bool batch, out string why)
    {
        batch = false;
        why = "use CloudEvent, LogEvent, StoredEvent, string, byte[], BinaryData, a concrete POCO, or an array/IReadOnlyList of one of these";
        ITypeSymbol element = type;
        if (type is IArrayTypeSymbol array && !IsBytes(type))
        {
            element = array.ElementType;
            batch = true;
        }
        else if (type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } g && g.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic" && g.Name is "IReadOnlyList" or "IList" or "List" or "IEnumerable" or "IReadOnlyCollection" or "ICollection")
        {
            element = g.TypeArguments[0];
            batch = true;
        }

        if (batch && element is IArrayTypeSymbol && !IsBytes(element))
        {
            why = "nested collections are not supported";
            return false;
        }

        if (element.SpecialType == SpecialType.System_String || IsBytes(element))
        {
            return true;
        }

        return !(element.SpecialType == SpecialType.System_Object || element.TypeKind is TypeKind.Interface or TypeKind.Delegate or TypeKind.Pointer or TypeKind.TypeParameter || element.IsAbstract);
    }

    private static bool IsBytes(ITypeSymbol t) => t is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_Byte, Rank: 1 };

    private static bool IsCollection(ITypeSymbol t) => t is IArrayTypeSymbol || t.AllInterfaces.Any(i => i.ToDisplayString() == "System.Collections.IEnumerable");

    private static bool SameIgnoringNullable(ITypeSymbol a, ITypeSymbol b)
    {
        static ITypeSymbol Strip(ITypeSymbol t) => t is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } n ? n.TypeArguments[0] : t.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
        return SymbolEqualityComparer.Default.Equals(Strip(a), Strip(b));
    }
}
