using System.Diagnostics;
using System.Globalization;

namespace FaasEvents.DevStorage;

/// <summary>Stopping local processes the way Kubernetes does on scale-in (and pausing them, as a stalled machine would).</summary>
public static class ProcessExtensions
{
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
