using System.Diagnostics;
using System.Reflection;
using FaasEvents.DevStorage;

namespace FaasEvents.Infra.Tests;

/// <summary>Every .bicep file compiles with the real Bicep CLI and its linter reports nothing.</summary>
public class BicepTests
{
    private static readonly string Root = AzuriteProcess.FindRepositoryRoot()!;

    private static string Bicep => typeof(BicepTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value!;

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.EnumerateFiles(Path.Combine(Root, "infra", "bicep"), "*.bicep", SearchOption.AllDirectories).Order())
        {
            data.Add(Path.GetRelativePath(Root, f));
        }

        return data;
    }

    internal static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Bicep) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, stderr + await stdout);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Compiles_and_lints_clean(string file)
    {
        string path = Path.Combine(Root, file);
        (int build, string buildOutput) = await RunAsync("build", path, "--stdout");
        Assert.True(build == 0, buildOutput);
        Assert.Contains("\"$schema\"", buildOutput, StringComparison.Ordinal); // an ARM template came out

        (int lint, string lintOutput) = await RunAsync("lint", path);
        Assert.True(lint == 0, lintOutput);
        Assert.DoesNotContain("Warning", lintOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Error", lintOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_lint_check_catches_warnings()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "bad.bicep");
        await File.WriteAllTextAsync(path, "param unused string\n");
        (_, string output) = await RunAsync("lint", path);
        Assert.Contains("no-unused-params", output, StringComparison.Ordinal);
    }
}
