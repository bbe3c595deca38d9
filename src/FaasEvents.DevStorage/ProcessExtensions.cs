using System.Diagnostics;
using System.Globalization;

namespace FaasEvents.DevStorage;

/// <summary>Stopping local processes the way Kubernetes does on scale-in (and pausing them, as a stalled machine would).</summary>
public static class ProcessExtensions
{
    /// <summary>
    /// Starts the process in its own session and process group (with <c>setsid</c>, where there is one), so a terminal's
    /// Ctrl+C, which signals the whole foreground group, does not reach it: the parent stops it, in its own order.
    /// The process keeps its pid (setsid execs in place).
    /// </summary>
    public static ProcessStartInfo InOwnProcessGroup(this ProcessStartInfo psi)
    {
        ArgumentNullException.ThrowIfNull(psi);
        if (OperatingSystem.IsWindows() || AzuriteProcess.FindOnPath("setsid") is null)
        {
            return psi;
        }

        psi.ArgumentList.Insert(0, psi.FileName);
        psi.FileName = "setsid";
        return psi;
    }

    /// <summary>Sends a POSIX signal by name (e.g. <c>STOP</c>, <c>CONT</c>, <c>TERM</c>) with <c>kill</c>.</summary>
    public static async Task SignalAsync(this Process process, string signal)
    {
        ArgumentNullException.ThrowIfNull(process);
        using Process kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Sends SIGTERM, waits up to <paramref name="grace"/>, then kills; returns the exit code.</summary>
    public static async Task<int> TerminateAsync(this Process process, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (!process.HasExited)
        {
            using (Process term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            try
            {
                await process.WaitForExitAsync().WaitAsync(grace);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        return process.ExitCode;
    }
}
