using System.Diagnostics;
using System.Globalization;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 1: 8 producers (separate clients, as separate processes) race on 4 partitions while 5% of storage writes
/// fail in every way (refused, reset, response lost, 500 after landing, delayed). Each producer pipelines its sends
/// without awaiting each one. Every acknowledged event must be there once, offsets contiguous, each producer's order
/// kept per partition.
/// </summary>
public static class RacingProducersScenario
{
    public static async Task<ScenarioReport> RunAsync(AzuriteProcess azurite, ScenarioSize size, CancellationToken cancellationToken)
    {
        const int producers = 8, partitions = 4, chunk = 25, pipeline = 4;
        int perProducer = Math.Max(chunk, size.Events / producers / chunk * chunk);
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var admin = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await admin.CreateStreamAsync(new StreamDefinition { Name = "race", Partitions = partitions }, cancellationToken);
        var clock = Stopwatch.StartNew();
        var mixes = new List<FaultMix>();
        var failedSends = new int[producers];
        var acknowledged = new HashSet<string>[producers];
        await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            var faults = new StorageFaultInjector(seed: 100 + p);
            faults.Random.Rate = 0.05;
            lock (mixes)
            {
                mixes.Add(faults.Random);
            }

            var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container, StorageOptions = faults.CreateOptions() });
            await using EventProducerClient producer = log.CreateProducer("race", new EventProducerOptions { Linger = TimeSpan.Zero });
            acknowledged[p] = [];
            var inFlight = new Queue<(string[] Ids, Task Send)>();
            for (int i = 0; i < perProducer; i += chunk)
            {
                string[] ids = Enumerable.Range(i, chunk).Select(n => $"p{p}-{n:D6}").ToArray();
                inFlight.Enqueue((ids, producer.SendBatchAsync(ids.Select(id => Event(id, $"p{p}-k{id.GetHashCode(StringComparison.Ordinal) & 7}")), cancellationToken)));
                while (inFlight.Count >= pipeline || (i + chunk >= perProducer && inFlight.Count > 0))
                {
                    (string[] done, Task send) = inFlight.Dequeue();
                    try
                    {
                        await send;
                        acknowledged[p].UnionWith(done);
                    }
                    catch (EventLogException)
                    {
                        failedSends[p]++; // not acknowledged: may or may not be stored, never reordered
                    }
                }
            }
        }, cancellationToken)));

        List<StoredEvent> read = await LogAudit.ReadAllAsync(admin, "race", cancellationToken);
        var counts = read.GroupBy(e => e.Event.Id).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        long lost = acknowledged.Sum(a => a.Count(id => !counts.ContainsKey(id)));
        long duplicated = counts.Values.Sum(n => n - 1L);
        long outOfOrder = 0;
        foreach (IGrouping<(int Partition, string Producer), StoredEvent> run in read.GroupBy(e => (e.Partition, e.Event.Id.Split('-')[0])))
        {
            int last = -1;
            foreach (StoredEvent e in run)
            {
                int n = int.Parse(e.Event.Id.Split('-')[1], CultureInfo.InvariantCulture);
                outOfOrder += n < last ? 1 : 0;
                last = Math.Max(last, n);
            }
        }

        int faultsInjected = mixes.Sum(m => m.Total);
        string kinds = KillsAndFaultsScenario.Kinds([.. mixes]);
        return new ScenarioReport(
            "1. Racing producers",
            $"{producers} producers x {perProducer:N0} events, {partitions} partitions, {pipeline} sends in flight each",
            $"5% of writes: {faultsInjected:N0} ({kinds})",
            lost,
            duplicated,
            outOfOrder,
            LogAudit.ReusedOrMissingOffsets(read),
            clock.Elapsed,
            $"{acknowledged.Sum(a => a.Count):N0} acknowledged, {failedSends.Sum()} sends failed after all retries (not acknowledged; their events may be stored once)");
    }

    private static LogEvent Event(string id, string key) => new(id, "/reliability", "reliability.event")
    {
        PartitionKey = key,
        DataContentType = "application/json",
        Data = BinaryData.FromString($"{{\"id\":\"{id}\"}}"),
    };
}
