using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Log.Tests;

/// <summary>
/// Every write path besides the append (AmbiguousAppendTests) and the state commit (FaultTests) with its ambiguous
/// case: storage acted but the caller lost the answer (DropResponse) or heard a failure (ForwardThen500), and the
/// SDK's retry then meets the effect of the first try.
/// </summary>
public class AmbiguousWriteTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Theory]
    [InlineData(FaultKind.DropResponse)]
    [InlineData(FaultKind.ForwardThen500)]
    public async Task A_roll_whose_segment_create_landed_unheard_appends_once_at_the_next_offset(FaultKind kind)
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions() });
        string stream = "roll-" + kind.ToString().ToLowerInvariant();
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 1, SegmentMaxBlocks = 2 });
        await using EventProducerClient producer = log.CreateProducer(stream, new EventProducerOptions { Linger = TimeSpan.Zero });
        await producer.SendAsync(TestEvents.Json("e0"));
        await producer.SendAsync(TestEvents.Json("e1")); // segment 0 full: the next send rolls

        faults.Once(StorageOperation.CreateBlob, kind, r => r.Uri.Path.Contains($"/streams/{stream}/00000/", StringComparison.Ordinal));
        EventPosition rolled = await producer.SendAsync(TestEvents.Json("e2"));
        await producer.SendAsync(TestEvents.Json("e3"));

        Assert.Equal(1, faults.Total);
        Assert.Equal(2, rolled.Offset);
        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, stream);
        Assert.Equal(["e0", "e1", "e2", "e3"], read.Select(e => e.Event.Id)); // lost 0, duplicated 0
        Assert.Equal([0L, 1L, 2L, 3L], read.Select(e => e.Offset)); // reused 0
    }

    [Theory]
    [InlineData(FaultKind.DropResponse)]
    [InlineData(FaultKind.ForwardThen500)]
    public async Task A_checkpoint_write_that_landed_unheard_succeeds_and_never_moves_back(FaultKind kind)
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions() });
        await log.CreateStreamAsync(new StreamDefinition { Name = "ckpt-" + (int)kind, Partitions = 1 });
        string stream = "ckpt-" + (int)kind;
        PartitionLease lease = (await log.CreateLeaseClient("owner").TryAcquireAsync("g", stream, 0, TimeSpan.FromSeconds(15)))!;
        Assert.True(await log.Checkpoints.UpdateAsync("g", stream, 0, 10, lease));

        faults.Once(StorageOperation.SetMetadata, kind);
        await log.Checkpoints.UpdateAsync("g", stream, 0, 20, lease); // true, or false once the retry sees 20 already there
        Assert.True(await log.Checkpoints.UpdateAsync("g", stream, 0, 30, lease));

        Assert.Equal(1, faults.Total);
        Assert.Equal(30, (await log.Checkpoints.GetAsync("g", stream, 0))!.NextOffset);
    }

    [Theory]
    [InlineData(FaultKind.DropResponse)]
    [InlineData(FaultKind.ForwardThen500)]
    public async Task A_lease_acquire_that_landed_unheard_still_gives_the_caller_the_partition(FaultKind kind)
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions() });
        string stream = "acquire-" + (int)kind;
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 1 });
        await log.Checkpoints.UpdateAsync("g", stream, 0, 5);

        faults.Once(StorageOperation.AcquireLease, kind);
        PartitionLease? lease = await log.CreateLeaseClient("me").TryAcquireAsync("g", stream, 0, TimeSpan.FromSeconds(15));

        Assert.Equal(1, faults.Total);
        Assert.NotNull(lease); // not left leased by nobody until it expires
        Assert.True(await log.Checkpoints.UpdateAsync("g", stream, 0, 6, lease));
        Assert.Null(await azurite.CreateClientFor(log).CreateLeaseClient("other").TryAcquireAsync("g", stream, 0, TimeSpan.FromSeconds(15)));
        Assert.Equal(6, (await log.Checkpoints.GetAsync("g", stream, 0))!.NextOffset);
    }

    [Theory]
    [InlineData(FaultKind.DropResponse)]
    [InlineData(FaultKind.ForwardThen500)]
    public async Task A_lease_renewal_that_landed_unheard_keeps_the_lease(FaultKind kind)
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions() });
        string stream = "renew-" + (int)kind;
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 1 });
        PartitionLeaseClient leases = log.CreateLeaseClient("me");
        PartitionLease lease = (await leases.TryAcquireAsync("g", stream, 0, TimeSpan.FromSeconds(15)))!;

        faults.Once(StorageOperation.RenewLease, kind);
        PartitionLease renewed = await leases.RenewAsync(lease);

        Assert.Equal(1, faults.Total);
        Assert.True(await log.Checkpoints.UpdateAsync("g", stream, 0, 1, renewed));
        Assert.Null(await azurite.CreateClientFor(log).CreateLeaseClient("other").TryAcquireAsync("g", stream, 0, TimeSpan.FromSeconds(15)));
    }
}
