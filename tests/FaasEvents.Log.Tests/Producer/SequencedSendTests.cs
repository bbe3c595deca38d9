using FaasEvents.Log.Compaction;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Producer;

/// <summary>Sequenced writes on Azurite: copies land, readers deliver each write once.</summary>
public class SequencedSendTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_producer_with_a_stable_id_that_sends_again_after_a_restart_is_read_once()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "outbox", Partitions = 2 });
        var id = Guid.NewGuid();
        var options = new EventProducerOptions { ProducerId = id };
        await using (EventProducerClient first = log.CreateProducer("outbox", options))
        {
            for (int i = 0; i < 5; i++)
            {
                await first.SendSequencedAsync(TestEvents.Json($"o{i}", key: $"k{i % 2}"), sequence: i + 1);
            }
        }

        await using (EventProducerClient restarted = log.CreateProducer("outbox", options))
        {
            for (int i = 3; i < 8; i++)
            {
                await restarted.SendSequencedAsync(TestEvents.Json($"o{i}", key: $"k{i % 2}"), sequence: i + 1); // "send, crash, restart, send again"
            }
        }

        List<StoredEvent> stored = await ReadAsync(log, "outbox", deduplicate: false);
        List<StoredEvent> delivered = await TestEvents.ReadAllAsync(log, "outbox");

        Assert.Equal(10, stored.Count); // o3 and o4 landed twice
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"o{i}"), delivered.OrderBy(e => e.Mark!.Value.Sequence).Select(e => e.Event.Id));
        Assert.All(delivered, e => Assert.Equal(id, e.Mark!.Value.Writer));
    }

    [Fact]
    public async Task Sequenced_sends_without_a_stable_producer_id_are_refused_naming_the_fix()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "no-id" });
        await using EventProducerClient producer = log.CreateProducer("no-id");

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => producer.SendSequencedAsync(TestEvents.Json("x"), 1));

        Assert.Contains("EventProducerOptions.ProducerId", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reader_resuming_with_a_checkpoint_s_writers_skips_copies_of_what_was_delivered_before_it()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "resume" });
        await using EventProducerClient producer = log.CreateProducer("resume");
        Guid writer = WriterIdentity.For("out", "g", "in", 0);
        await producer.SendSequencedAsync([TestEvents.Json("a"), TestEvents.Json("b")], [new(writer, 1), new(writer, 2)]);

        DuplicateFilter first = DuplicateFilter.Restore(null);
        Assert.Equal(2, (await ReadAsync(log, "resume", filter: first)).Count);
        await log.Checkpoints.UpdateAsync("readers", "resume", 0, 2, null, first.Settle(2, DateTimeOffset.UtcNow, DuplicateFilter.DefaultWindow), null);
        await producer.SendSequencedAsync([TestEvents.Json("b"), TestEvents.Json("c")], [new(writer, 2), new(writer, 3)]); // a re-run's copy of b, then c

        Checkpoint cp = (await log.Checkpoints.GetAsync("readers", "resume", 0))!;
        List<StoredEvent> resumed = await ReadAsync(log, "resume", filter: DuplicateFilter.Restore(cp.Writers), from: cp.NextOffset);

        Assert.Equal(["c"], resumed.Select(e => e.Event.Id));
        Assert.Equal(3, resumed[0].Offset);
    }

    [Fact]
    public async Task A_reader_resuming_after_hundreds_of_writers_skips_the_copies_of_every_one()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "many" });
        await using EventProducerClient producer = log.CreateProducer("many");
        Guid[] writers = [.. Enumerable.Range(0, 400).Select(i => WriterIdentity.For("out", "g", "in", i))]; // e.g. 400 input partitions feeding one output partition
        foreach (Guid w in writers)
        {
            await producer.SendSequencedAsync([TestEvents.Json($"first-{w:N}")], [new(w, 1)]);
        }

        DuplicateFilter first = DuplicateFilter.Restore(null);
        Assert.Equal(400, (await ReadAsync(log, "many", filter: first)).Count);
        await log.Checkpoints.UpdateAsync("readers", "many", 0, 400, null, first.Settle(400, DateTimeOffset.UtcNow, DuplicateFilter.DefaultWindow), null);
        foreach (Guid w in writers)
        {
            await producer.SendSequencedAsync([TestEvents.Json($"copy-{w:N}")], [new(w, 1)]); // every writer's re-run copy
        }

        await producer.SendSequencedAsync([TestEvents.Json("new")], [new(writers[0], 2)]);

        Checkpoint cp = (await log.Checkpoints.GetAsync("readers", "many", 0))!;
        List<StoredEvent> resumed = await ReadAsync(log, "many", filter: DuplicateFilter.Restore(cp.Writers), from: cp.NextOffset);

        // Before: the state kept with the checkpoint was cut to 6 KiB (about 165 writers): 235 copies were delivered again.
        Assert.Equal(["new"], resumed.Select(e => e.Event.Id));
    }

    [Fact]
    public async Task A_reset_clears_the_filter_s_state_and_moves_the_writer_generation_on()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "gen" });
        await log.Checkpoints.UpdateAsync("g", "gen", 0, 1, null, "AQ==", null);
        Assert.Equal((0L, "AQ=="), await GenerationAndWritersAsync(log));

        await log.Checkpoints.ResetAsync("g", "gen", 0, 0);
        Assert.Equal((1L, (string?)null), await GenerationAndWritersAsync(log));
        await log.Checkpoints.ResetAsync("g", "gen", 0, 0);
        Assert.Equal((2L, (string?)null), await GenerationAndWritersAsync(log));
        Assert.NotEqual(WriterIdentity.For("out", "g", "gen", 0, 1), WriterIdentity.For("out", "g", "gen", 0, 2));
        Assert.Equal(WriterIdentity.For("out", "g", "gen", 0), WriterIdentity.For("out", "g", "gen", 0, 0));
    }

    [Fact]
    public async Task Compaction_never_lets_a_copy_supersede_its_original_and_keeps_writer_marks()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "copied", Kind = StreamKind.Entities, SegmentMaxBlocks = 2 });
        await using EventProducerClient producer = log.CreateProducer("copied");
        Guid a = WriterIdentity.For("changelog", "m", "in", 0), b = WriterIdentity.For("changelog", "m", "in", 1);
        await producer.SendSequencedAsync([TestEvents.Json("a1", key: "x"), TestEvents.Json("a2", key: "y")], [new(a, 1), new(a, 2)]);
        await producer.SendSequencedAsync([TestEvents.Json("b1", key: "z")], [new(b, 1)]); // the first segment is full
        await producer.SendSequencedAsync([TestEvents.Json("a1", key: "x")], [new(a, 1)]); // a re-run's copy of a1, in the active segment
        await producer.SendBatchAsync([TestEvents.Json("plain", key: "w")]);

        await log.CompactAsync("copied", new CompactionOptions { DeleteRetention = TimeSpan.Zero });

        // Before: the copy counted as key x's latest event, so compaction dropped a1 and readers skipped the copy: x was lost.
        Assert.Equal(["a1", "a2", "b1", "plain"], (await TestEvents.ReadAllAsync(log, "copied")).Select(e => e.Event.Id));
        List<StoredEvent> stored = await ReadAsync(log, "copied", deduplicate: false);
        Assert.Equal([(Guid?)a, a, b, a, null], stored.Select(e => e.Mark?.Writer)); // marks survive the rewrite
    }

    [Fact]
    public async Task Compaction_keeps_what_a_later_copy_is_recognised_by_even_when_superseded()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "pinned", Kind = StreamKind.Entities, SegmentMaxBlocks = 2 });
        await using EventProducerClient producer = log.CreateProducer("pinned");
        Guid a = WriterIdentity.For("out", "g", "in", 0), v = WriterIdentity.For("out", "g", "in", 1);
        await producer.SendSequencedAsync([TestEvents.Json("old", key: "x")], [new(a, 1)]);
        await producer.SendSequencedAsync([TestEvents.Json("new", key: "x")], [new(v, 1)]); // another writer supersedes x
        await producer.SendSequencedAsync([TestEvents.Json("old", key: "x")], [new(a, 1)]); // a paused owner's late copy of "old"
        await producer.SendBatchAsync([TestEvents.Json("plain", key: "w")]);

        await log.CompactAsync("pinned", new CompactionOptions { DeleteRetention = TimeSpan.Zero });

        List<StoredEvent> delivered = await TestEvents.ReadAllAsync(log, "pinned");
        Assert.Equal(["old", "new", "plain"], delivered.Select(e => e.Event.Id)); // "old" stays, so its copy is still recognised
        Assert.Equal("new", delivered.Last(e => e.Event.PartitionKey == "x").Event.Id); // folding latest-wins still gives x = new
    }

    private static async Task<(long, string?)> GenerationAndWritersAsync(EventLogClient log)
    {
        Checkpoint cp = (await log.Checkpoints.GetAsync("g", "gen", 0))!;
        return (cp.Generation, cp.Writers);
    }

    private static async Task<List<StoredEvent>> ReadAsync(EventLogClient log, string stream, bool deduplicate = true, DuplicateFilter? filter = null, long from = 0)
    {
        StreamDefinition def = await log.GetStreamAsync(stream);
        var all = new List<StoredEvent>();
        for (int p = 0; p < def.Partitions; p++)
        {
            var options = new ReadOptions { From = StartPosition.FromOffset(from), Deduplicate = deduplicate, Filter = filter };
            await foreach (StoredEvent e in log.ReadPartitionAsync(stream, p, options))
            {
                all.Add(e);
            }
        }

        return all;
    }
}
