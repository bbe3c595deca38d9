using FaasEvents.Testing;

namespace FaasEvents.Cli.Tests;

/// <summary>Runs the built faas CLI as a separate process, as a user would.</summary>
internal static class FaasProcess
{
    /// <summary>
    /// The CLI from its own build output, with its own deps.json and runtimeconfig.json: the test's output folder
    /// resolves assemblies for the test (which has ASP.NET Core's shared framework through FaasEvents.Testing),
    /// so a faas.dll started from there misses package assemblies the shared framework replaced.
    /// </summary>
    public static string Dll
    {
        get
        {
            string config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // Debug or Release, like this test's build
            return Path.Combine(DevStorage.AzuriteProcess.FindRepositoryRoot()!, "src", "FaasEvents.Cli", "bin", config, "net10.0", "faas.dll");
        }
    }

    public static Task<DotnetRun.Result> RunAsync(string? storage, params string[] args) =>
        DotnetRun.RunAsync(
            Dll,
            args,
            new Dictionary<string, string?> { ["FAAS_STORAGE"] = storage, ["NO_COLOR"] = "1", ["COLUMNS"] = "200" });
}
