using System.Diagnostics;
using System.Text;

namespace FaasEvents.TestSupport;

/// <summary>Everything a started process prints (stdout and stderr, interleaved as lines arrive), readable at any time.</summary>
public sealed class ProcessOutput
{
    private readonly StringBuilder text = new();
    private readonly Process process;

    /// <summary>Starts reading both redirected streams of <paramref name="process"/>.</summary>
    public ProcessOutput(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        this.process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>What was printed so far; once the process has exited, everything it printed.</summary>
    public override string ToString()
    {
        try
        {
            if (process.HasExited)
            {
                // The exit is seen before the readers reach the end of the streams: wait for them (no timeout: they end
                // with the process), or the last lines — an error printed just before exiting — are missing.
                process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // Disposed or never started: what was read is all there is.
        }

        lock (text)
        {
            return text.ToString();
        }
    }

    private void Append(string? line)
    {
        lock (text)
        {
            text.AppendLine(line);
        }
    }
}
