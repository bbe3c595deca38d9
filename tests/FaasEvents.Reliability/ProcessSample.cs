using System.Globalization;

namespace FaasEvents.Reliability;

/// <summary>Memory, threads and open handles of a process, from /proc (Linux).</summary>
/// <param name="At">Time since the run started.</param>
/// <param name="RssMiB">Resident memory.</param>
/// <param name="Threads">Threads.</param>
/// <param name="Handles">Open file descriptors (sockets included).</param>
public sealed record ProcessSample(TimeSpan At, double RssMiB, int Threads, int Handles)
{
    public static ProcessSample? Take(int pid, TimeSpan at)
    {
        try
        {
            double rss = 0;
            int threads = 0;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = double.Parse(Field(line), CultureInfo.InvariantCulture) / 1024; // "VmRSS:\t  26916 kB"
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(Field(line), CultureInfo.InvariantCulture);
                }
            }

            return new ProcessSample(at, rss, threads, Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // the process is gone (or /proc is not there)
        }
    }

    private static string Field(string line) => line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1];
}
