using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace FaasEvents.Bench;

/// <summary>
/// Which types a phase allocates, sampled in-process from the runtime's allocation ticks (one event per ~100 KB
/// allocated, naming the type that crossed the mark), so the share of each type is an estimate that improves with
/// the volume allocated. A profiling aid: <c>functions --alloc-types</c> prints it per phase.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> bytesByType = new(StringComparer.Ordinal);
    private volatile bool recording;

    /// <summary>Starts counting from nothing.</summary>
    public void Start()
    {
        bytesByType.Clear();
        recording = true;
    }

    /// <summary>Stops counting; returns the types, most bytes first, with their share of the sampled total.</summary>
    public IReadOnlyList<(string Type, double Share)> Stop(int top)
    {
        recording = false;
        double total = Math.Max(1, bytesByType.Values.Sum());
        return [.. bytesByType.OrderByDescending(kv => kv.Value).Take(top).Select(kv => (kv.Key, kv.Value / total))];
    }

    /// <summary>Renders <see cref="Stop"/>'s result as lines "share  type".</summary>
    public static string Format(IReadOnlyList<(string Type, double Share)> types) =>
        string.Join('\n', types.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Share,6:P1}  {t.Type}")));

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!recording || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        int typeAt = eventData.PayloadNames.IndexOf("TypeName");
        int amountAt = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (typeAt < 0)
        {
            return;
        }

        string type = eventData.Payload[typeAt] as string ?? "?";
        long amount = amountAt >= 0 && eventData.Payload[amountAt] is ulong a ? (long)a : 100_000;
        bytesByType.AddOrUpdate(type, amount, (_, v) => v + amount);
    }
}
