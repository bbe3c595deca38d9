using Azure.Core;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Log.Tests.Producer;

/// <summary>A retried append never duplicates and never mistakes another batch for its own (invariant 3).</summary>
public class AmbiguousAppendTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static bool Segment(Request r, string stream) => r.Uri.Path.Contains($"/streams/{stream}/00000/", StringComparison.Ordinal);

    [Fact]
    public async Task A_timed_out_append_that_lands_while_the_producer_checks_is_not_written_twice()
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions(sdkRetries: 0) });
        await log.CreateStreamAsync(new StreamDefinition { Name = "late" });
        await using EventProducerClient producer = log.CreateProducer("late", new EventProducerOptions { Linger = TimeSpan.Zero });
        await producer.SendAsync(TestEvents.Json("before"));

        // The append times out on the client but is still on its way; it lands right after the producer looked and saw nothing.
        faults.Once(StorageOperation.AppendBlock, FaultKind.LateLanding);
        faults.After(StorageOperation.GetBlob, async () => Assert.Equal([201], await faults.LandHeldAsync()), r => Segment(r, "late"));
        EventPosition position = await producer.SendAsync(TestEvents.Json("x"));
        await producer.SendAsync(TestEvents.Json("after"));

        Assert.Equal(1, position.Offset);
        Assert.Equal(["before", "x", "after"], (await TestEvents.ReadAllAsync(log, "late")).Select(e => e.Event.Id)); // duplicated 0
    }

    [Fact]
    public async Task A_new_incarnation_of_a_fixed_producer_id_never_takes_the_old_ones_batch_for_its_own()
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions() });
        await log.CreateStreamAsync(new StreamDefinition { Name = "incarnation" });
        Guid id = Guid.NewGuid();
        EventLogClient oldProcess = azurite.CreateClientFor(log);
        await using EventProducerClient old = oldProcess.CreateProducer("incarnation", new EventProducerOptions { ProducerId = id, Linger = TimeSpan.Zero });
        await using EventProducerClient current = log.CreateProducer("incarnation", new EventProducerOptions { ProducerId = id, Linger = TimeSpan.Zero });
        await using (EventProducerClient third = azurite.CreateClientFor(log).CreateProducer("incarnation"))
        {
            await third.SendAsync(TestEvents.Json("before"));
        }

        // The old incarnation appends its sequence 1 right after the new one listed the tail: the new one's append then conflicts.
        faults.After(StorageOperation.List, async () => await old.SendAsync(TestEvents.Json("old-1")));
        EventPosition mine = await current.SendAsync(TestEvents.Json("new-1"));

        Assert.Equal(2, mine.Offset);
        Assert.Equal(["before", "old-1", "new-1"], (await TestEvents.ReadAllAsync(log, "incarnation")).Select(e => e.Event.Id)); // lost 0
    }

    [Fact]
    public async Task An_ambiguous_append_whose_segment_was_deleted_before_the_check_refuses_instead_of_appending_again()
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions(sdkRetries: 0) });
        await log.CreateStreamAsync(new StreamDefinition { Name = "vanish", SegmentMaxBlocks = 2, Retention = new RetentionPolicy(MaxBytes: 1) });
        await using EventProducerClient producer = log.CreateProducer("vanish", new EventProducerOptions { Linger = TimeSpan.Zero });
        await producer.SendAsync(TestEvents.Json("a"));

        // The append lands but its answer is lost; before the producer checks, another producer fills and rolls the
        // segment and retention deletes it.
        faults.Once(StorageOperation.AppendBlock, FaultKind.DropResponse);
        faults.After(StorageOperation.AppendBlock, async () =>
        {
            EventLogClient other = azurite.CreateClientFor(log);
            await using EventProducerClient p = other.CreateProducer("vanish", new EventProducerOptions { Linger = TimeSpan.Zero });
            await p.SendAsync(TestEvents.Json("other"));
            await other.ApplyRetentionAsync("vanish");
        });

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => producer.SendAsync(TestEvents.Json("x")));
        Assert.Contains("may have", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["other"], (await TestEvents.ReadAllAsync(log, "vanish")).Select(e => e.Event.Id)); // "x" not appended a second time
    }
}
