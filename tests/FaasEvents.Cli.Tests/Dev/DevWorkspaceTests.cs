using System.Text.Json;
using FaasEvents.Cli.Dev;
using FaasEvents.DevStorage;

namespace FaasEvents.Cli.Tests.Dev;

/// <summary>Which app faas dev runs, and where Azurite comes from outside a checkout.</summary>
public sealed class DevWorkspaceTests : IDisposable
{
    private const string App = """<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><OutputType>Exe</OutputType></PropertyGroup><ItemGroup><PackageReference Include="FaasEvents.Functions" Version="0.1.0" /></ItemGroup></Project>""";
    private const string TestProject = """<Project Sdk="Microsoft.NET.Sdk"><ItemGroup><PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" /><ProjectReference Include="../Shop/Shop.csproj" /><PackageReference Include="FaasEvents.Functions" Version="0.1.0" /></ItemGroup></Project>""";
    private readonly string dir = Directory.CreateTempSubdirectory("faas-workspace-").FullName;

    [Fact]
    public void The_app_in_a_subfolder_is_found_and_the_test_project_beside_it_is_not_taken()
    {
        string app = Write("Shop/Shop.csproj", App);
        Write("Shop.Tests/Shop.Tests.csproj", TestProject);
        Write("Shop/Other.txt", "");

        DevWorkspace workspace = DevWorkspace.Resolve(dir, project: null, appDll: null);

        Assert.Equal(app, workspace.AppProject);
        Assert.Equal(Path.Combine(dir, "Shop"), workspace.DataRoot);
        Assert.False(workspace.IsSamples);
    }

    [Fact]
    public void Two_apps_ask_for_project_and_name_both()
    {
        Write("A/A.csproj", App);
        Write("B/B.csproj", App);

        var ex = Assert.Throws<InvalidOperationException>(() => DevWorkspace.Resolve(dir, null, null));

        Assert.Contains("--project", ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("A", "A.csproj"), ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("B", "B.csproj"), ex.Message, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(dir, "B", "B.csproj"), DevWorkspace.Resolve(dir, "B", null).AppProject); // --project takes a folder
    }

    [Fact]
    public void No_app_outside_a_checkout_says_how_to_make_one()
    {
        Write("lib/Lib.csproj", """<Project Sdk="Microsoft.NET.Sdk" />""");

        var ex = Assert.Throws<InvalidOperationException>(() => DevWorkspace.Resolve(dir, null, null));

        Assert.Contains("dotnet new faas-app", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--project", Assert.Throws<InvalidOperationException>(() => DevWorkspace.Resolve(dir, "missing", null)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inside_the_checkout_the_samples_run()
    {
        string repo = AzuriteProcess.FindRepositoryRoot()!;

        DevWorkspace workspace = DevWorkspace.Resolve(repo, null, null);

        Assert.True(workspace.IsSamples);
        Assert.Equal(repo, workspace.ToolsRoot);
        Assert.Equal(repo, workspace.DataRoot);
    }

    [Fact]
    public void Outside_a_checkout_azurite_is_the_version_the_repository_pins()
    {
        string home = Path.Combine(dir, "home");
        Environment.SetEnvironmentVariable("FAAS_HOME", home);
        try
        {
            string root = AzuriteInstall.UserRoot();

            Assert.StartsWith(home, root, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(root, "package-lock.json")));
            string Pinned(string packageJson, string section) => JsonDocument.Parse(File.ReadAllText(packageJson)).RootElement.GetProperty(section).GetProperty("azurite").GetString()!;
            string repo = AzuriteProcess.FindRepositoryRoot()!;
            Assert.Equal(Pinned(Path.Combine(repo, "package.json"), "devDependencies"), Pinned(Path.Combine(root, "package.json"), "dependencies"));
            Assert.Equal(AzuriteInstall.Version, Pinned(Path.Combine(root, "package.json"), "dependencies"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("FAAS_HOME", null);
        }
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(string relative, string text)
    {
        string path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}
