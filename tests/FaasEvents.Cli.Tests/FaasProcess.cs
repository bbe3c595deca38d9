using FaasEvents.Testing;

namespace FaasEvents.Cli.Tests;

/// <summary>Runs the built faas CLI as a separate process, as a user would.</summary>
internal static class FaasProcess
{
    public static Task<DotnetRun.Result> RunAsync(string? storage, params string[] args) =>
        DotnetRun.RunAsync(
            Path.Combine(AppContext.BaseDirectory, "faas.dll"),
            args,
            new Dictionary<string, string?> { ["FAAS_STORAGE"] = storage, ["NO_COLOR"] = "1", ["COLUMNS"] = "200" });
}
