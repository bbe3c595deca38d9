using FaasEvents.DevStorage;

namespace FaasEvents.Cli.Dev;

/// <summary>
/// What <c>faas dev</c> runs and where it keeps things: the function app project (given, found in the current directory,
/// or the repository's samples), the directory whose <c>.faas/</c> holds local data, and the npm root Azurite runs from.
/// </summary>
/// <param name="AppProject">The function app's .csproj, or null when a built app was given.</param>
/// <param name="DataRoot">Local data (<c>.faas/azurite</c>, build output) goes under this directory's <c>.faas/</c>.</param>
/// <param name="ToolsRoot">The directory whose package.json pins Azurite (the repository, or a per-user install).</param>
internal sealed record DevWorkspace(string? AppProject, string DataRoot, string ToolsRoot)
{
    /// <summary>The samples app of a FaasEvents checkout, relative to its root.</summary>
    public const string SamplesProject = "functions/FaasEvents.Samples/FaasEvents.Samples.csproj";

    /// <summary>True when this is the repository's samples app (which reads the ping source's stream).</summary>
    public bool IsSamples => AppProject?.Replace('\\', '/').EndsWith(SamplesProject, StringComparison.Ordinal) ?? false;

    /// <summary>Resolves the workspace; <paramref name="project"/> is --project (a .csproj or a directory), <paramref name="appDll"/> --app-dll.</summary>
    public static DevWorkspace Resolve(string currentDirectory, string? project, string? appDll)
    {
        string? repository = AzuriteProcess.FindRepositoryRoot(currentDirectory);
        string tools = repository ?? AzuriteInstall.UserRoot();
        if (appDll is not null)
        {
            return new DevWorkspace(null, repository ?? currentDirectory, tools);
        }

        string? app = project is not null ? FunctionAppProject.FromOption(Path.GetFullPath(project, currentDirectory)) : FunctionAppProject.Find(currentDirectory);
        if (app is not null)
        {
            return new DevWorkspace(app, Path.GetDirectoryName(app)!, tools);
        }

        if (repository is not null && File.Exists(Path.Combine(repository, SamplesProject)))
        {
            return new DevWorkspace(Path.Combine(repository, SamplesProject), repository, tools);
        }

        throw new InvalidOperationException($"no function app project in {currentDirectory} or its subdirectories: run faas dev in your app's directory, pass --project PATH, or create an app with 'dotnet new faas-app -n MyApp'.");
    }
}
