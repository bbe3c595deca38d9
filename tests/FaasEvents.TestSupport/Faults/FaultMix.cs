using System.Collections.Concurrent;

namespace FaasEvents.TestSupport.Faults;

/// <summary>
/// Random storage faults by rate: which requests are eligible, which kinds are drawn, and what was injected
/// (by "operation/kind"). Shared by the in-process <see cref="StorageFaultInjector"/> and the <see cref="StorageFaultProxy"/>.
/// </summary>
public sealed class FaultMix
{
    private readonly ConcurrentDictionary<string, int> injected = new(StringComparer.Ordinal);
    private readonly Random random;
    private readonly Lock gate = new();

    public FaultMix(int seed = 1) => random = new Random(seed);

    /// <summary>Share of eligible requests that get a fault (0 = none).</summary>
    public double Rate { get; set; }

    /// <summary>The kinds a fault is drawn from.</summary>
    public IReadOnlyList<FaultKind> Kinds { get; set; } = [FaultKind.Refuse503, FaultKind.ResetBeforeSend, FaultKind.DropResponse, FaultKind.ForwardThen500, FaultKind.Delay];

    /// <summary>Faults also hit reads (listings, downloads), not only writes.</summary>
    public bool FaultReads { get; set; }

    /// <summary>Faults injected so far, keyed "operation/kind".</summary>
    public IReadOnlyDictionary<string, int> Injected => injected;

    /// <summary>Total faults injected so far.</summary>
    public int Total => injected.Values.Sum();

    /// <summary>Faults injected so far, by kind.</summary>
    public IReadOnlyDictionary<string, int> ByKind =>
        injected.GroupBy(kv => kv.Key[(kv.Key.IndexOf('/', StringComparison.Ordinal) + 1)..]).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value), StringComparer.Ordinal);

    /// <summary>Draws a fault for one request, or null.</summary>
    public FaultKind? Roll(bool isWrite)
    {
        if (Rate <= 0 || (!FaultReads && !isWrite))
        {
            return null;
        }

        lock (gate)
        {
            return random.NextDouble() < Rate ? Kinds[random.Next(Kinds.Count)] : null;
        }
    }

    /// <summary>Counts an injected fault.</summary>
    public void Count(string operation, string kind) => injected.AddOrUpdate($"{operation}/{kind}", 1, (_, n) => n + 1);
}
