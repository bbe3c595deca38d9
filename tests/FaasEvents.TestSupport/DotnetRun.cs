using System.Diagnostics;

namespace FaasEvents.TestSupport;

/// <summary>Runs a built .NET program once, as a separate process, and captures what it printed.</summary>
public static class DotnetRun
{
    /// <summary>What the process did.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <c>dotnet {dll} {args}</c> with extra environment variables; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task<Result> RunAsync(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach ((string k, string? v) in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[k] = v;
        }

        using Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
