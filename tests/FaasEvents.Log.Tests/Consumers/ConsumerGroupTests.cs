using FaasEvents.Log.Consumers;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Consumers;

public class ConsumerGroupTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Checkpoints_move_forward_only_and_list_in_one_listing()
    {
        EventLogClient log = azurite.CreateClient();
        Assert.True(await log.Checkpoints.UpdateAsync("g", "s", 0, 10));
        Assert.True(await log.Checkpoints.UpdateAsync("g", "s", 0, 25));
        Assert.False(await log.Checkpoints.UpdateAsync("g", "s", 0, 20)); // backwards: refused
        Assert.False(await log.Checkpoints.UpdateAsync("g", "s", 0, 25)); // same: nothing to write
        await log.Checkpoints.UpdateAsync("g", "s", 3, 7);
        await log.Checkpoints.UpdateAsync("g", "other", 0, 1);
        await log.Checkpoints.UpdateAsync("h", "s", 0, 99);

        Assert.Equal(25, (await log.Checkpoints.GetAsync("g", "s", 0))!.NextOffset);
        IReadOnlyList<Checkpoint> all = await log.Checkpoints.ListAsync("g", "s");
        Assert.Equal([(0, 25L), (3, 7L)], all.Select(c => (c.Partition, c.NextOffset)));
        Assert.Equal(3, (await log.Checkpoints.ListAsync("g")).Count);

        await log.Checkpoints.ResetAsync("g", "s", 0, 5); // replay moves back on purpose
        Assert.Equal(5, (await log.Checkpoints.GetAsync("g", "s", 0))!.NextOffset);
    }

    [Fact]
    public async Task Racing_checkpoint_writers_never_move_it_backwards()
    {
        EventLogClient log = azurite.CreateClient();
        // Several clients (separate ETag caches) write interleaved offsets; the maximum must win.
        EventLogClient[] writers = Enumerable.Range(0, 4).Select(_ => azurite.CreateClientFor(log)).ToArray();
        await log.Checkpoints.UpdateAsync("g", "s", 0, 0);
        await Task.WhenAll(writers.Select((w, i) => Task.Run(async () =>
        {
            for (int n = i; n < 200; n += 4)
            {
                await w.Checkpoints.UpdateAsync("g", "s", 0, n);
            }
        })));

        Assert.Equal(199, (await log.Checkpoints.GetAsync("g", "s", 0))!.NextOffset);
    }

    [Fact]
    public async Task Lease_is_exclusive_renewable_releasable_and_fences_checkpoints()
    {
        EventLogClient log = azurite.CreateClient();
        PartitionLeaseClient a = log.CreateLeaseClient("instance-a");
        PartitionLeaseClient b = log.CreateLeaseClient("instance-b");

        PartitionLease? held = await a.TryAcquireAsync("g", "s", 2, LeaseTime);
        Assert.NotNull(held);
        Assert.Null(await b.TryAcquireAsync("g", "s", 2, LeaseTime)); // exclusive
        held = await a.RenewAsync(held);
        Assert.True(await log.Checkpoints.UpdateAsync("g", "s", 2, 5, held)); // owner can checkpoint

        EventLogException notOwner = await Assert.ThrowsAsync<EventLogException>(() => log.Checkpoints.ResetAsync("g", "s", 2, 0));
        Assert.Equal(EventLogErrorReason.LeaseLost, notOwner.Reason); // nobody else can

        IReadOnlyList<PartitionOwnership> owners = await a.ListOwnershipAsync("g", "s");
        Assert.Equal([new PartitionOwnership(2, "instance-a", true, 5)], owners);

        await a.ReleaseAsync(held);
        PartitionLease? taken = await b.TryAcquireAsync("g", "s", 2, LeaseTime);
        Assert.NotNull(taken); // released: free at once
        Assert.Equal(5, (await log.Checkpoints.GetAsync("g", "s", 2))!.NextOffset); // acquiring kept the checkpoint

        EventLogException lost = await Assert.ThrowsAsync<EventLogException>(() => log.Checkpoints.UpdateAsync("g", "s", 2, 9, held));
        Assert.Equal(EventLogErrorReason.LeaseLost, lost.Reason); // the old owner's checkpoint is refused
        await Assert.ThrowsAsync<EventLogException>(() => a.RenewAsync(held));
        Assert.Equal(5, (await log.Checkpoints.GetAsync("g", "s", 2))!.NextOffset);
    }

    [Fact]
    public async Task Expired_lease_is_taken_over()
    {
        EventLogClient log = azurite.CreateClient();
        PartitionLeaseClient a = log.CreateLeaseClient("a");
        PartitionLeaseClient b = log.CreateLeaseClient("b");
        PartitionLease held = (await a.TryAcquireAsync("g", "s", 0, LeaseTime))!;
        Assert.Null(await b.TryAcquireAsync("g", "s", 0, LeaseTime));

        // 'a' dies without releasing. Storage enforces the lease duration, so this waits for real.
        PartitionLease? taken = null;
        DateTime deadline = DateTime.UtcNow + LeaseTime + TimeSpan.FromSeconds(10);
        while (taken is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
            taken = await b.TryAcquireAsync("g", "s", 0, LeaseTime);
        }

        Assert.NotNull(taken);
        Assert.Equal("b", (await b.ListOwnershipAsync("g", "s"))[0].OwnerId);
        await Assert.ThrowsAsync<EventLogException>(() => a.RenewAsync(held)); // 'a' learns it lost the partition
    }
}
