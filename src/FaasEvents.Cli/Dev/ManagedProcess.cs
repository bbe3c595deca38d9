using System.Diagnostics;
using FaasEvents.DevStorage;

namespace FaasEvents.Cli.Dev;

/// <summary>A child process whose output lines go to a callback; stops with SIGTERM (graceful), then kill.</summary>
internal sealed class ManagedProcess : IAsyncDisposable
{
    private readonly Process process;

    private ManagedProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
        Started = DateTimeOffset.Now;
    }

    public string Name { get; }

    public int Pid => process.Id;

    public DateTimeOffset Started { get; }

    public bool HasExited => process.HasExited;

    public static ManagedProcess Start(string name, string dll, IEnumerable<string> args, IDictionary<string, string> env, Action<string, string> onLine)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach ((string k, string v) in env)
        {
            psi.Environment[k] = v;
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.InOwnProcessGroup(); // a terminal's Ctrl+C reaches faas dev only; it stops its children in order
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) { onLine(name, e.Data); } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { onLine(name, e.Data); } };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return new ManagedProcess(name, p);
    }

    /// <summary>SIGTERM, as Kubernetes sends on scale-in; kill after <paramref name="grace"/>. Returns the exit code.</summary>
    public Task<int> StopAsync(TimeSpan grace) => process.TerminateAsync(grace);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30));
        process.Dispose();
    }
}
