using System.Diagnostics;
using System.Globalization;

namespace FaasEvents.DevStorage;

/// <summary>Stopping local processes the way Kubernetes does on scale-in.</summary>
public static class ProcessExtensions
{
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
