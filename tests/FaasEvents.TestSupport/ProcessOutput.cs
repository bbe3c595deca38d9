using System.Diagnostics;
using System.Text;

namespace FaasEvents.TestSupport;

/// <summary>Everything a started process prints (stdout and stderr, interleaved as lines arrive), readable at any time.</summary>
public sealed class ProcessOutput
{
    private readonly StringBuilder text = new();

    /// <summary>Starts reading both redirected streams of <paramref name="process"/>.</summary>
    public ProcessOutput(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>What was printed so far.</summary>
    public override string ToString()
    {
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
