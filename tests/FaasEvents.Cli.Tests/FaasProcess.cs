using System.Diagnostics;

namespace FaasEvents.Cli.Tests;

/// <summary>Runs the built faas CLI as a separate process, as a user would.</summary>
internal static class FaasProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(string? storage, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "faas.dll"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["FAAS_STORAGE"] = storage;
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["COLUMNS"] = "200";
        using Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
