using System.Collections.Concurrent;
using FaasEvents.Log.Compaction;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Streams;

/// <summary>
/// Producers and a following reader at work while compaction rewrites and retention deletes segments under them:
/// every acknowledged event keeps its offset (none reused), the reader never repeats or reorders an offset, and what
/// compaction keeps is the latest per key.
/// </summary>
public class LifecycleRaceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Producers_and_a_following_reader_lose_and_repeat_nothing_while_compaction_rewrites_segments()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "race-compact", Partitions = 1, Kind = StreamKind.Entities, SegmentMaxBlocks = 3 });
        var acked = new ConcurrentDictionary<long, LogEvent>();
        using var done = new CancellationTokenSource();

        Task producers = Task.WhenAll(Enumerable.Range(0, 2).Select(p => ProduceAsync(log, "race-compact", p, 40, acked)));
        var seen = new List<StoredEvent>();
        Task<List<StoredEvent>> reader = FollowAsync(log, "race-compact", seen, startAtEarliestIfTruncated: false, done.Token);
        int compactions = 0;
        while (!producers.IsCompleted)
        {
            await log.CompactAsync("race-compact", new CompactionOptions { DeleteRetention = TimeSpan.Zero });
            compactions++;
        }

        await producers;
        await log.CompactAsync("race-compact", new CompactionOptions { DeleteRetention = TimeSpan.Zero });
        long end = (await log.GetPartitionsAsync("race-compact"))[0].EndOffset;
        List<StoredEvent> followed = await StopWhenReadAsync(reader, seen, end, done);

        Assert.True(compactions >= 2, $"only {compactions} compaction runs raced the producers");
        Assert.Equal(Enumerable.Range(0, 2 * 40 * 5).Select(i => (long)i), acked.Keys.Order()); // contiguous, none reused
        AssertMatchesAcknowledged(followed, acked);
        Assert.Equal(end - 1, followed[^1].Offset);
        List<StoredEvent> final = await TestEvents.ReadAllAsync(log, "race-compact");
        AssertMatchesAcknowledged(final, acked);
        Assert.Equal(Fold(acked.OrderBy(kv => kv.Key).Select(kv => kv.Value)), Fold(final.Select(e => e.Event))); // latest per key kept
    }

    [Fact]
    public async Task Producers_and_a_following_reader_keep_order_while_retention_deletes_segments()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "race-retain", Partitions = 1, SegmentMaxBlocks = 3, Retention = new RetentionPolicy(MaxBytes: 4096) });
        var acked = new ConcurrentDictionary<long, LogEvent>();
        using var done = new CancellationTokenSource();

        Task producers = Task.WhenAll(Enumerable.Range(0, 2).Select(p => ProduceAsync(log, "race-retain", p, 40, acked)));
        var seen = new List<StoredEvent>();
        Task<List<StoredEvent>> reader = FollowAsync(log, "race-retain", seen, startAtEarliestIfTruncated: true, done.Token);
        int runs = 0;
        while (!producers.IsCompleted)
        {
            await log.ApplyRetentionAsync("race-retain");
            runs++;
        }

        await producers;
        long end = (await log.GetPartitionsAsync("race-retain"))[0].EndOffset;
        List<StoredEvent> followed = await StopWhenReadAsync(reader, seen, end, done);

        Assert.True(runs >= 2, $"only {runs} retention runs raced the producers");
        Assert.Equal(Enumerable.Range(0, 2 * 40 * 5).Select(i => (long)i), acked.Keys.Order()); // contiguous, none reused
        AssertMatchesAcknowledged(followed, acked); // what the reader saw is in order, once each, at its offset
        Assert.Equal(end - 1, followed[^1].Offset);
        List<StoredEvent> retained = await TestEvents.ReadAllAsync(log, "race-retain");
        AssertMatchesAcknowledged(retained, acked);
        Assert.Equal(end - retained[0].Offset, retained.Count); // what retention keeps is a contiguous tail
    }

    /// <summary>One producer's 40 batches of 5 keyed events, each acknowledged at its offsets.</summary>
    private static async Task ProduceAsync(EventLogClient log, string stream, int producerIndex, int batches, ConcurrentDictionary<long, LogEvent> acked)
    {
        await using EventProducerClient producer = log.CreateProducer(stream, new EventProducerOptions { Linger = TimeSpan.Zero });
        for (int b = 0; b < batches; b++)
        {
            LogEvent[] batch = Enumerable.Range(0, 5).Select(i => new LogEvent($"p{producerIndex}-{b}-{i}", "/race", "upserted")
            {
                PartitionKey = $"k{(b * 5 + i) % 7}",
                Data = BinaryData.FromString($"p{producerIndex}-{b}-{i}"),
            }).ToArray();
            IReadOnlyList<EventPosition> positions = await producer.SendBatchAsync(batch);
            for (int i = 0; i < batch.Length; i++)
            {
                Assert.True(acked.TryAdd(positions[i].Offset, batch[i]), $"offset {positions[i].Offset} acknowledged twice");
            }
        }
    }

    private static async Task<List<StoredEvent>> FollowAsync(EventLogClient log, string stream, List<StoredEvent> seen, bool startAtEarliestIfTruncated, CancellationToken stop)
    {
        try
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync(stream, 0, new ReadOptions { Follow = true, PollInterval = TimeSpan.FromMilliseconds(20), StartAtEarliestIfTruncated = startAtEarliestIfTruncated }, stop))
            {
                lock (seen)
                {
                    seen.Add(e);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return seen;
    }

    /// <summary>Lets the following reader reach the end (at most 30 s), then stops it and returns what it read.</summary>
    private static async Task<List<StoredEvent>> StopWhenReadAsync(Task<List<StoredEvent>> reader, List<StoredEvent> seen, long end, CancellationTokenSource stop)
    {
        DateTime limit = DateTime.UtcNow.AddSeconds(30);
        while (!reader.IsCompleted && DateTime.UtcNow < limit)
        {
            lock (seen)
            {
                if (seen.Count > 0 && seen[^1].Offset >= end - 1)
                {
                    break;
                }
            }

            await Task.Delay(100);
        }

        await stop.CancelAsync();
        return await reader;
    }

    private static void AssertMatchesAcknowledged(List<StoredEvent> events, ConcurrentDictionary<long, LogEvent> acked)
    {
        long previous = -1;
        foreach (StoredEvent e in events)
        {
            Assert.True(e.Offset > previous, $"offset {e.Offset} after {previous}: repeated or out of order");
            previous = e.Offset;
            Assert.True(acked.TryGetValue(e.Offset, out LogEvent? sent), $"offset {e.Offset} holds an event nobody acknowledged");
            Assert.Equal(sent.Id, e.Event.Id); // the event at an offset is the one acknowledged there
        }
    }

    private static Dictionary<string, string> Fold(IEnumerable<LogEvent> events)
    {
        var table = new Dictionary<string, string>();
        foreach (LogEvent e in events)
        {
            table[e.PartitionKey!] = e.Data!.ToString();
        }

        return table;
    }
}
