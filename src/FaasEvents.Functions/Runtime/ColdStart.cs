using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// The phases of this process's cold start, in milliseconds since the process started, logged once when its first
/// partition is claimed: e.g. "cold start: first partition claimed 1060 ms after the process started (builder 180,
/// built 420, runtime 610, streams 700)".
/// </summary>
internal static class ColdStart
{
    private static readonly ConcurrentQueue<(string Phase, double Ms)> Marks = new();
    private static int logged;

    /// <summary>Notes that <paramref name="phase"/> was reached now.</summary>
    public static void Mark(string phase)
    {
        if (Volatile.Read(ref logged) == 0)
        {
            Marks.Enqueue((phase, SinceStart()));
        }
    }

    /// <summary>The first claim of the process: logs the cold start once.</summary>
    public static void Claimed(ILogger logger)
    {
        if (Interlocked.Exchange(ref logged, 1) == 0)
        {
            logger.LogInformation("cold start: first partition claimed {Milliseconds:0} ms after the process started ({Phases})", SinceStart(), string.Join(", ", Marks.Select(m => $"{m.Phase} {m.Ms:0}")));
        }
    }

    private static double SinceStart() => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
}
