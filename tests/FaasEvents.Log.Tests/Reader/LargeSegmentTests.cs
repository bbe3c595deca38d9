using FaasEvents.DevStorage;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Reader;

/// <summary>
/// Azurite with on-disk persistence (what <c>faas dev</c> runs) cannot serve one GET of a blob range holding more than
/// about 20,000 blocks: it answers 500 and ends the response early. A segment may hold 50,000 single-event batches,
/// so a reader must fetch a segment in bounded ranges, or a consumer reading from earliest stalls for good.
/// </summary>
public class LargeSegmentTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Reading_in_small_ranges_yields_every_event_once_across_range_boundaries_and_while_following()
    {
        EventLogClient writer = fixture.CreateClient();
        await writer.CreateStreamAsync(new StreamDefinition { Name = "ranges", Partitions = 1, SegmentMaxBlocks = 40 });
        var random = new Random(11);
        var sent = new List<string>();
        await using (EventProducerClient producer = writer.CreateProducer("ranges", new EventProducerOptions { Linger = TimeSpan.Zero }))
        {
            for (int i = 0; i < 100; i++)
            {
                // Batches from ~150 bytes to ~5 KiB: headers, bodies and footers straddle 1 KiB ranges everywhere.
                LogEvent[] batch = Enumerable.Range(0, 1 + random.Next(3)).Select(j => new LogEvent($"e{i}-{j}", "/t", "t") { Data = BinaryData.FromString(new string('x', random.Next(1, 1600))) }).ToArray();
                await producer.SendBatchAsync(batch);
                sent.AddRange(batch.Select(e => e.Id));
            }
        }

        var reader = new EventLogClient(fixture.ConnectionString, new EventLogClientOptions { ContainerName = writer.Container.Name, ReadRangeBytes = 1024 });
        List<StoredEvent> read = await TestEvents.ReadAllAsync(reader, "ranges");
        Assert.Equal(sent, read.Select(e => e.Event.Id)); // lost 0, duplicated 0, in order
        Assert.Equal(Enumerable.Range(0, sent.Count).Select(i => (long)i), read.Select(e => e.Offset));

        // Following from the middle: the events appended after the reader reached the end arrive once each.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var followed = new List<string>();
        Task follow = Task.Run(async () =>
        {
            await foreach (StoredEvent e in reader.ReadPartitionAsync("ranges", 0, new ReadOptions { From = StartPosition.FromOffset(sent.Count - 5), Follow = true, PollInterval = TimeSpan.FromMilliseconds(20) }, stop.Token))
            {
                followed.Add(e.Event.Id);
                if (followed.Count == 5 + 3)
                {
                    return;
                }
            }
        });
        await using (EventProducerClient producer = writer.CreateProducer("ranges"))
        {
            foreach (string id in new[] { "late-0", "late-1", "late-2" })
            {
                await producer.SendAsync(new LogEvent(id, "/t", "t") { Data = BinaryData.FromString(new string('y', 700)) });
            }
        }

        await follow;
        Assert.Equal(sent.TakeLast(5).Concat(["late-0", "late-1", "late-2"]), followed);
    }

    [Fact]
    public async Task A_segment_of_more_than_20000_batches_on_disk_backed_Azurite_is_read_whole()
    {
        string root = AzuriteProcess.FindRepositoryRoot()!;
        string data = Path.Combine(Path.GetTempPath(), "faas-large-" + Guid.NewGuid().ToString("N")[..8]);
        await using AzuriteProcess azurite = await AzuriteProcess.StartAsync(root, dataDirectory: data);
        try
        {
            var log = new EventLogClient(azurite.ConnectionString);
            await log.CreateStreamAsync(new StreamDefinition { Name = "many", Partitions = 1 });
            const int count = 21_000;
            await using (EventProducerClient producer = log.CreateProducer("many", new EventProducerOptions { Linger = TimeSpan.Zero }))
            {
                for (int i = 0; i < count; i++)
                {
                    await producer.SendAsync(new LogEvent($"e{i}", "/t", "t")); // one batch (one block) per event
                }
            }

            long expected = 0;
            await foreach (StoredEvent e in log.ReadPartitionAsync("many", 0))
            {
                Assert.Equal(expected++, e.Offset);
            }

            Assert.Equal(count, expected); // lost 0, duplicated 0
        }
        finally
        {
            await azurite.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }
}
