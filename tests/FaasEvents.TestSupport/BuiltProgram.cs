using FaasEvents.DevStorage;

namespace FaasEvents.TestSupport;

/// <summary>
/// A program of this repository from its own build output (with its own deps.json and runtimeconfig.json), in the
/// configuration the caller was built in. A program started from the caller's folder would resolve assemblies for the
/// caller (e.g. ASP.NET Core's shared framework) and miss package assemblies the shared framework replaced.
/// </summary>
public static class BuiltProgram
{
    /// <summary>Debug or Release, like the running assembly's own build.</summary>
    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    /// <summary>The built <paramref name="dll"/> of the project folder <paramref name="project"/> (relative to the repository root).</summary>
    public static string Path(string project, string dll) =>
        System.IO.Path.Combine(AzuriteProcess.FindRepositoryRoot()!, project, "bin", Configuration, "net10.0", dll);
}
