using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.State;
using FaasEvents.Testing;

namespace FaasEvents.Log.Tests.Consumers;

/// <summary>Checkpoints: a lost owner never re-creates one, and a reset never leaves state ahead of its offset.</summary>
public class CheckpointEdgeTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task An_owner_whose_checkpoint_blob_was_deleted_gets_lease_lost_and_does_not_re_create_it()
    {
        EventLogClient log = azurite.CreateClient();
        PartitionLease lease = (await log.CreateLeaseClient("a").TryAcquireAsync("g", "s", 0, TimeSpan.FromSeconds(15)))!;
        await log.Checkpoints.UpdateAsync("g", "s", 0, 5, lease);

        // The stream (or the group) is deleted meanwhile: lease broken, blob removed.
        BlobClient blob = log.Container.GetBlobClient("groups/g/s/0");
        await blob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
        await blob.DeleteAsync();

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => log.Checkpoints.UpdateAsync("g", "s", 0, 10, lease));
        Assert.Equal(EventLogErrorReason.LeaseLost, ex.Reason);
        Assert.False(await blob.ExistsAsync()); // the zombie's checkpoint did not come back
    }

    [Fact]
    public async Task Resetting_a_group_with_committed_state_drops_the_state_so_nothing_is_folded_twice()
    {
        EventLogClient log = azurite.CreateClient();
        PartitionLeaseClient leases = log.CreateLeaseClient("a");
        PartitionLease lease = (await leases.TryAcquireAsync("inventory", "moves", 0, TimeSpan.FromSeconds(15)))!;
        await log.CreateStateStore("inventory", "moves", 0).CommitAsync(new Dictionary<string, BinaryData?> { ["sku-1"] = BinaryData.FromString("10") }, 5, lease);
        await leases.ReleaseAsync(lease);

        await log.Checkpoints.ResetAsync("inventory", "moves", 0, 0); // replay from the start

        RestoredState restored = await log.CreateStateStore("inventory", "moves", 0).RestoreAsync();
        Assert.Equal(0, restored.NextOffset);
        Assert.Empty(restored.Table); // a table that already holds offsets 0-4 would count them twice
    }
}
