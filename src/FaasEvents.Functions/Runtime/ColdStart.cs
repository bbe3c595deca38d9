using System.Collections.Concurrent;
using System.Diagnostics;
using FaasEvents.Functions.Telemetry;
using FaasEvents.Log.Events;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// The phases of this process's cold start, in milliseconds since the process started: logged once when its first
/// partition is claimed (e.g. "cold start: first partition claimed 1060 ms after the process started (builder 180,
/// built 420, runtime 610, streams 700)"), and recorded as <c>faas.function.coldstart.duration</c> at the first claim
/// and the first invocation. The first invocation's event, if it was appended before the process started, woke it:
/// its wait is recorded as a cold <c>faas.function.wake.latency</c>.
/// </summary>
internal static class ColdStart
{
    private static readonly ConcurrentQueue<(string Phase, double Ms)> Marks = new();
    private static readonly ConcurrentDictionary<string, byte> InvokedFunctions = new(StringComparer.Ordinal);
    private static readonly DateTimeOffset ProcessStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();
    private static int logged;
    private static int invoked;

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
            double ms = SinceStart();
            FunctionInstruments.ColdStart.Record(ms / 1000, new KeyValuePair<string, object?>("faas.coldstart.phase", "claimed"));
            logger.LogInformation("cold start: first partition claimed {Milliseconds:0} ms after the process started ({Phases})", ms, string.Join(", ", Marks.Select(m => $"{m.Phase} {m.Ms:0}")));
        }
    }

    /// <summary>
    /// An invocation is about to start: each function's first in this process is counted as its cold start (with the
    /// partition's counts, so checkpoints carry it); the process's first records the cold start's last phase and, maybe, a cold wake.
    /// </summary>
    public static void Invoking(string function, PartitionMetrics metrics, StoredEvent first, TimeProvider time)
    {
        if (!InvokedFunctions.ContainsKey(function) && InvokedFunctions.TryAdd(function, 0)) // a lock-free read on every later invocation
        {
            metrics.ColdStarted(); // each function's first invocation in this process: an instance started for it
        }

        if (Volatile.Read(ref invoked) != 0 || Interlocked.Exchange(ref invoked, 1) != 0)
        {
            return;
        }

        FunctionInstruments.ColdStart.Record(SinceStart() / 1000, new KeyValuePair<string, object?>("faas.coldstart.phase", "invoked"));
        if (first.Timestamp < ProcessStart)
        {
            metrics.Woke(time.GetUtcNow() - first.Timestamp, cold: true);
        }
    }

    private static double SinceStart() => (DateTimeOffset.UtcNow - ProcessStart).TotalMilliseconds;
}
