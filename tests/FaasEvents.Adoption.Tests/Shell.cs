using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.TestSupport;
using Xunit.Abstractions;

namespace FaasEvents.Adoption.Tests;

/// <summary>Runs commands as a user's shell would: a program, arguments, a working directory and an environment.</summary>
internal sealed class Shell(string directory, IReadOnlyDictionary<string, string> environment, ITestOutputHelper log)
{
    /// <summary>Runs a command to its end; a non-zero exit fails the test with what it printed.</summary>
    public async Task<string> RunAsync(string program, string[] args, string? directoryOverride = null, TimeSpan? timeout = null)
    {
        (int code, string text) = await TryRunAsync(program, args, directoryOverride, timeout);
        Assert.True(code == 0, $"`{program} {string.Join(' ', args)}` exited with {code}:\n{text}");
        return text;
    }

    /// <summary>Runs a command to its end and returns its exit code and what it printed.</summary>
    public async Task<(int Code, string Output)> TryRunAsync(string program, string[] args, string? directoryOverride = null, TimeSpan? timeout = null)
    {
        using Process p = Start(program, args, directoryOverride);
        var output = new ProcessOutput(p);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await p.TerminateAsync(TimeSpan.FromSeconds(5));
            Assert.Fail($"`{program} {string.Join(' ', args)}` did not finish within {(timeout ?? TimeSpan.FromMinutes(5)).TotalSeconds:0} s:\n{output}");
        }

        p.WaitForExit(); // drains the redirected output
        string text = output.ToString();
        log.WriteLine($"$ {program} {string.Join(' ', args)}  (exit {p.ExitCode})");
        return (p.ExitCode, text);
    }

    /// <summary>Starts a long-running command; read its output as it comes.</summary>
    public (Process Process, ProcessOutput Output) Start(string program, string[] args)
    {
        Process p = Start(program, args, null);
        return (p, new ProcessOutput(p));
    }

    private Process Start(string program, string[] args, string? directoryOverride)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = directoryOverride ?? directory };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach ((string k, string v) in environment)
        {
            psi.Environment[k] = v;
        }

        Process p = Process.Start(psi.InOwnProcessGroup())!;
        p.StandardInput.Close();
        return p;
    }
}
