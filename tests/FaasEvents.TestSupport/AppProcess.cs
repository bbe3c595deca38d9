using System.Diagnostics;
using FaasEvents.DevStorage;

namespace FaasEvents.TestSupport;

/// <summary>The sample function app (FaasEvents.Samples.dll beside the caller) as a real process, as KEDA would start it.</summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ProcessOutput output;

    private AppProcess(Process process)
    {
        this.process = process;
        output = new ProcessOutput(process);
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public string Output => output.ToString();

    public static AppProcess Start(string storage, string container, string hostJson, string instanceId, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "FaasEvents.Samples.dll"), "--port", "0", "--host-json", hostJson, "--instance-id", instanceId }.Concat(extra))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["FAAS_STORAGE"] = storage;
        psi.Environment["FAAS_CONTAINER"] = container;
        return new AppProcess(Process.Start(psi)!);
    }

    /// <summary>SIGSTOP: the process freezes (a stalled VM, a long GC pause) and keeps whatever it believed.</summary>
    public Task PauseAsync() => process.SignalAsync("STOP");

    /// <summary>SIGCONT: a paused process goes on as if nothing happened (a zombie, if its leases were taken meanwhile).</summary>
    public Task ResumeAsync() => process.SignalAsync("CONT");

    /// <summary>kill -9: no shutdown, no checkpoint, no lease release.</summary>
    public void KillHard() => process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM, what scale-in sends; waits for the exit.</summary>
    public Task<int> TerminateAsync(TimeSpan timeout) => process.TerminateAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
