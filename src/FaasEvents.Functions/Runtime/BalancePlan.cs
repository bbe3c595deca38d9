using FaasEvents.Log.Consumers;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// One load-balancing decision: which free partitions to claim and which to steal. With P partitions and N live
/// instances (owners seen in the lease listing, plus this one) each aims for ceil(P/N): it claims free ones up to
/// that, steals from owners above ceil(P/N), and, while below floor(P/N), also from owners above floor(P/N).
/// </summary>
internal static class BalancePlan
{
    public static (IReadOnlyList<int> Claim, IReadOnlyList<int> Steal) Decide(int partitions, string self, IReadOnlySet<int> mine, IReadOnlyList<PartitionOwnership> ownership, Random random)
    {
        var othersOwn = ownership.Where(o => o.IsLeased && o.OwnerId is not null && o.OwnerId != self && !mine.Contains(o.Partition) && o.Partition < partitions)
            .ToDictionary(o => o.Partition, o => o.OwnerId!);
        int instances = othersOwn.Values.Distinct(StringComparer.Ordinal).Count() + 1;
        int ceil = (partitions + instances - 1) / instances;
        int floor = partitions / instances;
        int have = mine.Count;
        var claim = new List<int>();
        var steal = new List<int>();
        if (have >= ceil)
        {
            return (claim, steal);
        }

        // Random order: instances starting together rarely race for the same partition.
        foreach (int p in Enumerable.Range(0, partitions).Where(p => !mine.Contains(p) && !othersOwn.ContainsKey(p)).OrderBy(_ => random.Next()))
        {
            if (have + claim.Count >= ceil)
            {
                break;
            }

            claim.Add(p);
        }

        var counts = othersOwn.GroupBy(kv => kv.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).OrderBy(_ => random.Next()).ToList(), StringComparer.Ordinal);
        void TakeFrom(int above, int upTo)
        {
            foreach ((string owner, List<int> parts) in counts.OrderByDescending(kv => kv.Value.Count))
            {
                while (parts.Count > above && have + claim.Count + steal.Count < upTo)
                {
                    steal.Add(parts[^1]);
                    parts.RemoveAt(parts.Count - 1);
                }
            }
        }

        TakeFrom(ceil, ceil);
        TakeFrom(floor, floor);
        return (claim, steal);
    }
}
