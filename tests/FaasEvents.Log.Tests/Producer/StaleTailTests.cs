using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Log.Tests.Producer;

/// <summary>No cached belief decides an offset (invariant 13): a writer with a stale tail never starts a segment at a used offset.</summary>
public class StaleTailTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_producer_whose_cached_segment_is_full_rolls_at_the_real_end_after_retention_deleted_segments()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "stale", SegmentMaxBlocks = 2, Retention = new RetentionPolicy(MaxBytes: 1) });
        await using EventProducerClient a = log.CreateProducer("stale", new EventProducerOptions { Linger = TimeSpan.Zero });
        await a.SendAsync(TestEvents.Json("a0"));
        await a.SendAsync(TestEvents.Json("a1")); // a believes: segment 0 is full, next offset 2

        await using (EventProducerClient b = azurite.CreateClientFor(log).CreateProducer("stale", new EventProducerOptions { Linger = TimeSpan.Zero }))
        {
            foreach (string id in new[] { "b2", "b3", "b4" })
            {
                await b.SendAsync(TestEvents.Json(id)); // segments 2 (full) and 4
            }
        }

        await log.ApplyRetentionAsync("stale"); // deletes segments 0 and 2; 4 is active
        EventPosition position = await a.SendAsync(TestEvents.Json("a5"));

        Assert.Equal(5, position.Offset); // not 2, an offset already used
        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "stale");
        Assert.Equal([4L, 5L], read.Select(e => e.Offset));
        Assert.Equal(["b4", "a5"], read.Select(e => e.Event.Id));
    }

    [Fact]
    public async Task Block_count_exceeded_is_a_conflict_not_a_reason_to_roll_at_the_cached_offset()
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions() });
        await log.CreateStreamAsync(new StreamDefinition { Name = "blocks", SegmentMaxBlocks = 3 });
        await using EventProducerClient a = log.CreateProducer("blocks", new EventProducerOptions { Linger = TimeSpan.Zero });
        await a.SendAsync(TestEvents.Json("a0")); // a believes: segment 0 holds one block, next offset 1

        await using (EventProducerClient b = azurite.CreateClientFor(log).CreateProducer("blocks", new EventProducerOptions { Linger = TimeSpan.Zero }))
        {
            foreach (string id in new[] { "b1", "b2", "b3" })
            {
                await b.SendAsync(TestEvents.Json(id)); // segment 0 full, then segment 3
            }
        }

        // Azurite checks the block limit before the append position: a stale writer hears BlockCountExceedsLimit.
        faults.OnceAnswer(StorageOperation.AppendBlock, 409, "BlockCountExceedsLimit");
        EventPosition position = await a.SendAsync(TestEvents.Json("a4"));

        Assert.Equal(1, faults.Total);
        Assert.Equal(4, position.Offset);
        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "blocks");
        Assert.Equal([0L, 1L, 2L, 3L, 4L], read.Select(e => e.Offset));
        Assert.Equal(["a0", "b1", "b2", "b3", "a4"], read.Select(e => e.Event.Id));
    }
}
