using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace FaasEvents.Log.Tests.Storage;

public class SegmentTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Segments_roll_under_a_small_size_limit_with_racing_producers()
    {
        EventLogClient log = azurite.CreateClient();
        CancellationToken ct = TestEvents.Timeout(180);
        await log.CreateStreamAsync(new StreamDefinition { Name = "roll", SegmentMaxBytes = 4096 }, ct);

        await Task.WhenAll(Enumerable.Range(0, 3).Select(p => Task.Run(async () =>
        {
            EventLogClient own = azurite.CreateClientFor(log);
            await using EventProducerClient producer = own.CreateProducer("roll", new EventProducerOptions { Linger = TimeSpan.Zero });
            for (int i = 0; i < 100; i += 4)
            {
                await producer.SendBatchAsync(Enumerable.Range(i, 4).Select(n => TestEvents.Json($"p{p}-{n}", padTo: 150)), ct);
            }
        }, ct)));

        PartitionInfo info = (await log.GetPartitionsAsync("roll", ct))[0];
        Assert.True(info.Segments >= 10, $"expected many segments, got {info.Segments}");
        Assert.Equal(300, info.EndOffset);
        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "roll", ct);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), read.Select(e => e.Offset)); // contiguous across segments
        Assert.Equal(300, read.Select(e => e.Event.Id).Distinct().Count()); // lost 0, duplicated 0
        List<StoredEvent> fromMiddle = await log.ReadPartitionAsync("roll", 0, new ReadOptions { From = StartPosition.FromOffset(157) }, ct).ToListAsync(ct);
        Assert.Equal(157, fromMiddle[0].Offset);
        Assert.Equal(143, fromMiddle.Count);
    }

    [Fact]
    public async Task Segments_roll_at_the_block_limit()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "blocks", SegmentMaxBlocks = 3 });
        await using EventProducerClient producer = log.CreateProducer("blocks");
        for (int i = 0; i < 10; i++)
        {
            await producer.SendAsync(TestEvents.Json($"e{i}"));
        }

        PartitionInfo info = (await log.GetPartitionsAsync("blocks"))[0];
        Assert.Equal((4, 10L), (info.Segments, info.EndOffset)); // 3 + 3 + 3 + 1 batches
        Assert.Equal(10, (await TestEvents.ReadAllAsync(log, "blocks")).Count);
    }

    [Fact]
    public async Task Size_retention_deletes_only_whole_old_segments()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ret", SegmentMaxBlocks = 2, Retention = new RetentionPolicy(MaxBytes: 2000) });
        await using (EventProducerClient producer = log.CreateProducer("ret"))
        {
            for (int i = 0; i < 20; i++)
            {
                await producer.SendAsync(TestEvents.Json($"e{i}", padTo: 100)); // 10 segments of 2 batches
            }
        }

        PartitionInfo before = (await log.GetPartitionsAsync("ret"))[0];
        IReadOnlyList<DeletedSegment> deleted = await log.ApplyRetentionAsync("ret");
        PartitionInfo after = (await log.GetPartitionsAsync("ret"))[0];

        Assert.NotEmpty(deleted);
        Assert.Equal(before.Segments - deleted.Count, after.Segments);
        Assert.True(after.Bytes <= 2000, $"{after.Bytes} bytes retained");
        Assert.True(after.Bytes + deleted[^1].Bytes > 2000, "deleted one segment too many");
        Assert.Equal(deleted.Count * 2L, after.EarliestOffset); // whole segments: offsets 0..(2n-1) gone
        Assert.Equal(20, after.EndOffset);
        List<long> retained = await log.ReadPartitionAsync("ret", 0).Select(e => e.Offset).ToListAsync();
        Assert.Equal(Enumerable.Range((int)after.EarliestOffset, 20 - (int)after.EarliestOffset).Select(i => (long)i), retained); // nothing newer lost

        EventLogException below = await Assert.ThrowsAsync<EventLogException>(async () => await log.ReadPartitionAsync("ret", 0, new ReadOptions { From = StartPosition.FromOffset(0) }).ToListAsync());
        Assert.Equal(EventLogErrorReason.OffsetOutOfRange, below.Reason);
        Assert.Contains($"earliest retained offset is {after.EarliestOffset}", below.Message, StringComparison.Ordinal);
        List<StoredEvent> clamped = await log.ReadPartitionAsync("ret", 0, new ReadOptions { From = StartPosition.FromOffset(0), StartAtEarliestIfTruncated = true }).ToListAsync();
        Assert.Equal(after.EarliestOffset, clamped[0].Offset);
    }

    [Fact]
    public async Task Time_retention_keeps_the_active_segment()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { TimeProvider = clock });
        await log.CreateStreamAsync(new StreamDefinition { Name = "aged", SegmentMaxBlocks = 1, Retention = RetentionPolicy.Parse("1h") });
        await using (EventProducerClient producer = log.CreateProducer("aged", new EventProducerOptions { Linger = TimeSpan.Zero }))
        {
            for (int i = 0; i < 5; i++)
            {
                await producer.SendAsync(TestEvents.Json($"e{i}"));
            }
        }

        Assert.Empty(await log.ApplyRetentionAsync("aged")); // nothing is an hour old yet
        clock.Advance(TimeSpan.FromHours(2));
        IReadOnlyList<DeletedSegment> deleted = await log.ApplyRetentionAsync("aged");

        Assert.Equal(4, deleted.Count); // five one-batch segments: all but the last (active) one expired
        PartitionInfo info = (await log.GetPartitionsAsync("aged"))[0];
        Assert.Equal(5, info.EndOffset);
        Assert.Equal(4, info.EarliestOffset);
    }
}
