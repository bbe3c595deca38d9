using System.Text.RegularExpressions;
using System.Xml.Linq;
using FaasEvents.DevStorage;

namespace FaasEvents.Infra.Tests;

/// <summary>
/// No Docker engine runs here, so the Dockerfiles are checked for everything that can be checked without one:
/// pinned bases, multi-stage, non-root, health check, graceful stop, and that every path and assembly they name exists.
/// </summary>
public partial class DockerfileTests
{
    private static readonly string Root = AzuriteProcess.FindRepositoryRoot()!;

    /// <summary>Dockerfile, its build context, the project it publishes (relative to the context) and the assembly it runs.</summary>
    public static TheoryData<string, string, string, string> Images => new()
    {
        { "infra/docker/server.Dockerfile", ".", "src/FaasEvents.Server/FaasEvents.Server.csproj", "FaasEvents.Server" },
        { "infra/docker/function-app.Dockerfile", ".", "functions/FaasEvents.Samples/FaasEvents.Samples.csproj", "FaasEvents.Samples" },
        { "templates/content/faas-app/Dockerfile", "templates/content/faas-app", "FaasApp/FaasApp.csproj", "FaasApp" }, // every app made by dotnet new faas-app
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void Dockerfile_is_multi_stage_pinned_non_root_and_healthy(string dockerfile, string context, string project, string assembly)
    {
        string text = File.ReadAllText(Path.Combine(Root, dockerfile));
        string contextDir = Path.Combine(Root, context);
        string[] lines = Logical(text);

        string[] froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, froms.Length); // build stage + small runtime stage
        Assert.Contains("mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}", froms[0], StringComparison.Ordinal);
        Assert.Contains("mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}", froms[1], StringComparison.Ordinal); // runtime only, no SDK
        Assert.Contains("ARG DOTNET_VERSION=10.0", text, StringComparison.Ordinal);
        Assert.DoesNotContain(":latest", text, StringComparison.Ordinal);

        int runtimeStart = Array.IndexOf(lines, froms[1]);
        string[] runtime = lines[runtimeStart..];
        string user = Assert.Single(runtime, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"USER\s+(root|0)\b", user);
        Assert.Single(runtime, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal) && l.Contains("--healthcheck", StringComparison.Ordinal));
        Assert.Single(runtime, l => l == "STOPSIGNAL SIGTERM");
        Assert.Single(runtime, l => l.StartsWith("ENTRYPOINT [", StringComparison.Ordinal)); // exec form: dotnet gets the signal

        // Every COPY source (outside --from) exists in the repository, so the build context is complete.
        foreach (string copy in lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from", StringComparison.Ordinal)))
        {
            string[] parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (string source in parts[1..^1])
            {
                Assert.True(File.Exists(Path.Combine(contextDir, source)) || Directory.Exists(Path.Combine(contextDir, source)), $"{dockerfile}: COPY source '{source}' does not exist");
            }
        }

        // The project it publishes exists and builds the assembly its entrypoint runs.
        Assert.True(File.Exists(Path.Combine(contextDir, project)), project);
        Assert.Contains(project, text, StringComparison.Ordinal);
        string? assemblyName = XDocument.Load(Path.Combine(contextDir, project)).Descendants("AssemblyName").FirstOrDefault()?.Value;
        Assert.Equal(assembly, assemblyName ?? Path.GetFileNameWithoutExtension(project));
        Assert.Contains(assembly, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_context_excludes_build_outputs_and_node_modules()
    {
        string[] ignore = File.ReadAllLines(Path.Combine(Root, ".dockerignore"));
        Assert.Contains("**/bin/", ignore);
        Assert.Contains("**/obj/", ignore);
        Assert.Contains("**/node_modules/", ignore);
        string[] app = File.ReadAllLines(Path.Combine(Root, "templates/content/faas-app/.dockerignore")); // what dotnet new faas-app makes
        Assert.Contains("**/bin/", app);
        Assert.Contains("**/obj/", app);
        Assert.Contains("**/.faas/", app);
    }

    /// <summary>Joins continuation lines and drops comments.</summary>
    private static string[] Logical(string text) =>
        Continuation().Replace(text, " ").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

    [GeneratedRegex(@"\\\s*\n\s*")]
    private static partial Regex Continuation();
}
