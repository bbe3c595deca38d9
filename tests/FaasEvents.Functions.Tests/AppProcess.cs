using System.Diagnostics;
using System.Text;
using FaasEvents.DevStorage;

namespace FaasEvents.Functions.Tests;

/// <summary>The sample function app as a real process (as KEDA would start it).</summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private AppProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

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
