using System.Diagnostics;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Support;

/// <summary>
/// What a process printed just before it exited is in its captured output once it has exited: the startup-error tests
/// read the output right after seeing the exit, and twice missed the error line in clean-clone CI runs.
/// </summary>
public class ProcessOutputTests
{
    [Fact]
    public void The_last_lines_before_exit_are_there_as_soon_as_the_exit_is_seen()
    {
        var missed = 0;
        for (int i = 0; i < 100; i++)
        {
            var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("echo starting; echo 'error: the last line' 1>&2; exit 1");
            using Process p = Process.Start(psi)!;
            var output = new ProcessOutput(p);
            SpinWait.SpinUntil(() => p.HasExited);
            if (!output.ToString().Contains("error: the last line", StringComparison.Ordinal))
            {
                missed++;
            }
        }

        Assert.Equal(0, missed);
    }
}
