using System.Reflection;
using FaasEvents.Functions.Generators;
using FaasEvents.Samples;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FaasEvents.Functions.Tests.Generators;

/// <summary>The source generator: the index and invokers it writes, and the start-up checks it turns into compiler errors.</summary>
public sealed class FunctionsGeneratorTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using FaasEvents.Functions;
        using FaasEvents.Log.Events;
        namespace App;
        public sealed record Order(string Id, decimal Amount);
        public sealed record Total(int Count);

        """;

    [Fact]
    public void A_valid_app_compiles_with_an_index_and_an_invoker_per_function()
    {
        (Compilation output, IReadOnlyList<Diagnostic> diagnostics) = Run(Usings + """
            public static class Functions
            {
                [Function("audit")]
                [EventOutput("audits")]
                public static Order Audit([EventTrigger("orders")] Order order) => order;

                [Function("totals")]
                public static Total? Totals([MaterializerTrigger("orders")] Order? order, [CurrentState] Total? current) => new((current?.Count ?? 0) + 1);

                [Function("batch")]
                internal static Task Batch([EventTrigger("orders", ConsumerGroup = "b")] IReadOnlyList<LogEvent> events) => Task.CompletedTask;

                [Function("hidden")]
                private static void Hidden([EventTrigger("other")] string text) { }
            }
            """);

        Assert.Empty(diagnostics);
        string index = Assert.Single(output.SyntaxTrees, t => t.FilePath.EndsWith("FaasEvents.FunctionIndex.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("\"audit\", typeof(global::App.Functions), \"Audit\", 1, static (target, args) => global::App.Functions.Audit((global::App.Order)args[0]!)", index, StringComparison.Ordinal);
        Assert.Contains("\"batch\"", index, StringComparison.Ordinal);
        Assert.Contains("\"hidden\", typeof(global::App.Functions), \"Hidden\", 1, null", index, StringComparison.Ordinal); // private: reflection
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    public static TheoryData<string, string, string> Mistakes => new()
    {
        { "FAAS001", """[Function("bad name!")] public static void F([EventTrigger("s")] Order o) { }""", "function name 'bad name!' is invalid" },
        { "FAAS001", """[Function("f")] public static void F([EventTrigger("s/x")] Order o) { }""", "stream name 's/x' is invalid" },
        { "FAAS002", """[Function("f")] public static void F<T>([EventTrigger("s")] Order o) { }""", "cannot be a generic method" },
        { "FAAS003", """[Function("f")] public static void F([EventTrigger("s")] Order o, ref int n) { }""", "parameter 'n' is ref/out" },
        { "FAAS004", """[Function("f")] public static void F(Order o) { }""", "no parameter has [EventTrigger" },
        { "FAAS005", """[Function("f")] public static void F([EventTrigger("s")] Order o, [EventTrigger("t")] Order p) { }""", "parameter 'p' has a second trigger" },
        { "FAAS006", """[Function("f")] public static void F([EventTrigger("s")] object o) { }""", "trigger parameter 'o' has type object, which cannot be bound" },
        { "FAAS006", """[Function("f")] public static void F([EventTrigger("s")] Order[][] o) { }""", "nested collections are not supported" },
        { "FAAS007", """[Function("f")] public static Total? F([MaterializerTrigger("s")] Order? o, [EntityKey] int key) => null;""", "[EntityKey] parameter 'key' must be a string" },
        { "FAAS008", """[Function("f")] public static void F([EventTrigger("s")] Order o, [CurrentState] Total? t) { }""", "parameter 't' has [CurrentState]" },
        { "FAAS009", """[Function("f")] public static Order F([EventTrigger("s")] Order o) => o;""", "returns App.Order but has no [EventOutput(\"stream\")]" },
        { "FAAS010", """[Function("f")] [EventOutput("out")] public static Task F([EventTrigger("s")] Order o) => Task.CompletedTask;""", "has [EventOutput] but returns nothing" },
        { "FAAS011", """[Function("f")] public static void F([MaterializerTrigger("s")] Order? o) { }""", "a materializer returns the key's new state" },
        { "FAAS011", """[Function("f")] public static Total? F([MaterializerTrigger("s")] Order? o, [CurrentState] Order? current) => null;""", "[CurrentState] parameter 'current' has type App.Order? but the materializer returns App.Total?" },
        { "FAAS011", """[Function("f")] public static Total? F([MaterializerTrigger("s")] Order[] o) => null;""", "folds one event at a time" },
        { "FAAS012", """[Function("f")] public static void F([EventTrigger("s", ConsumerGroup = "a")] Order o) { } [Function("f")] public static void G([EventTrigger("s", ConsumerGroup = "b")] Order o) { }""", "function name 'f' is also used by [Function(\"f\")] App.Functions." },
        { "FAAS013", """[Function("f")] public static void F([EventTrigger("s", ConsumerGroup = "g")] Order o) { } [Function("h")] public static void H([EventTrigger("s", ConsumerGroup = "g")] Order o) { }""", "consumer group 'g' on stream 's' is also used by" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void A_wrong_signature_fails_the_build_naming_the_method_and_the_fix(string id, string functions, string message)
    {
        (_, IReadOnlyList<Diagnostic> diagnostics) = Run(Usings + "public static class Functions { " + functions + " }");

        Assert.All(diagnostics, d => Assert.Equal(id, d.Id)); // this mistake only (a clash is reported on each method in it)
        Diagnostic d = Assert.Single(diagnostics.Take(1));
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        string text = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(message, text, StringComparison.Ordinal);
        Assert.Contains("App.Functions.", text, StringComparison.Ordinal); // names the method
        Assert.NotEqual(Location.None, d.Location);
    }

    [Fact]
    public void The_sample_app_is_built_with_the_index_and_runs_its_functions_without_reflection()
    {
        Assembly samples = typeof(OrderFunctions).Assembly;
        IReadOnlyList<FunctionDefinition> discovered = FunctionDiscovery.Discover(samples);

        Assert.Contains(samples.GetTypes(), t => t.FullName == "FaasEvents.Functions.Generated.FunctionIndex");
        Assert.All(discovered, f => Assert.True(f.Invoke is not null, $"{f.Name} has a generated invoker"));
        Assert.Equal(discovered.Select(f => f.Name).Order(), ["book-catalog", "customer-totals", "email-sender", "event-display", "inventory", "order-audit", "order-billing", "order-enrich", "order-split", "shipping"]);
    }

    private static (Compilation Output, IReadOnlyList<Diagnostic> Diagnostics) Run(string source)
    {
        string[] trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        IEnumerable<MetadataReference> references = trusted.Select(p => MetadataReference.CreateFromFile(p))
            .Concat([MetadataReference.CreateFromFile(typeof(FunctionAttribute).Assembly.Location), MetadataReference.CreateFromFile(typeof(FaasEvents.Log.Events.LogEvent).Assembly.Location)]);
        CSharpCompilation compilation = CSharpCompilation.Create("App", [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))], references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new FunctionsGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        return (output, driver.GetRunResult().Diagnostics);
    }
}
