using FaasEvents.TestSupport;

namespace FaasEvents.Cli.Tests;

/// <summary>Runs the built faas CLI as a separate process, as a user would.</summary>
internal static class FaasProcess
{
    /// <summary>The CLI from its own build output (see <see cref="BuiltProgram"/>).</summary>
    public static string Dll => BuiltProgram.Path("src/FaasEvents.Cli", "faas.dll");

    public static Task<DotnetRun.Result> RunAsync(string? storage, params string[] args) =>
        DotnetRun.RunAsync(
            Dll,
            args,
            new Dictionary<string, string?> { ["FAAS_STORAGE"] = storage, ["NO_COLOR"] = "1", ["COLUMNS"] = "200" });
}
