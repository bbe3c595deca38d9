using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

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
    public async Task A_filter_state_too_large_for_metadata_lives_in_one_blob_per_checkpoint_and_leaves_none_behind()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "s" });
        PartitionLeaseClient leases = log.CreateLeaseClient("a");
        PartitionLease lease = (await leases.TryAcquireAsync("g", "s", 0, TimeSpan.FromSeconds(15)))!;
        string large = LargeState(400), larger = LargeState(500);

        await log.Checkpoints.UpdateAsync("g", "s", 0, 10, null, large, lease);
        Assert.Equal(large, (await log.Checkpoints.GetAsync("g", "s", 0))!.Writers);
        await log.Checkpoints.UpdateAsync("g", "s", 0, 20, null, larger, lease);
        Assert.Equal(larger, (await log.Checkpoints.GetAsync("g", "s", 0))!.Writers);
        Assert.Single(await WritersBlobsAsync(log)); // the one the checkpoint names; the previous one was deleted

        await log.Checkpoints.UpdateAsync("g", "s", 0, 30, null, lease, CancellationToken.None); // no new state: keep the stored one
        Assert.Equal(larger, (await log.Checkpoints.GetAsync("g", "s", 0))!.Writers);

        await leases.ReleaseAsync(lease);
        PartitionLease successor = (await log.CreateLeaseClient("b").TryAcquireAsync("g", "s", 0, TimeSpan.FromSeconds(15)))!;
        EventLogException lost = await Assert.ThrowsAsync<EventLogException>(() => log.Checkpoints.UpdateAsync("g", "s", 0, 40, null, large, lease)); // a zombie
        Assert.Equal(EventLogErrorReason.LeaseLost, lost.Reason);
        Assert.Single(await WritersBlobsAsync(log)); // the zombie's refused state is not left behind
        Assert.Equal(larger, (await log.Checkpoints.GetAsync("g", "s", 0))!.Writers);

        await log.Checkpoints.UpdateAsync("g", "s", 0, 50, null, "AQ==", successor); // small again: back in metadata
        Assert.Equal("AQ==", (await log.Checkpoints.GetAsync("g", "s", 0))!.Writers);
        Assert.Empty(await WritersBlobsAsync(log));

        await log.Checkpoints.UpdateAsync("g", "s", 0, 60, null, large, successor);
        await log.DeleteStreamAsync("s");
        Assert.Empty(await WritersBlobsAsync(log)); // deleted with the stream's checkpoints
    }

    private static string LargeState(int writers)
    {
        DuplicateFilter filter = DuplicateFilter.Restore(null);
        for (int i = 0; i < writers; i++)
        {
            filter.Admit(new StoredEvent(0, i, DateTimeOffset.UtcNow, new LogEvent($"e{i}", "/t", "t")) { Mark = new WriterMark(Guid.NewGuid(), i + 1) });
        }

        return filter.Settle(writers, DateTimeOffset.UtcNow, DuplicateFilter.DefaultWindow)!;
    }

    private static async Task<List<string>> WritersBlobsAsync(EventLogClient log)
    {
        var names = new List<string>();
        await foreach (Azure.Storage.Blobs.Models.BlobItem item in log.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "groups/g/s/0.writers/", CancellationToken.None))
        {
            names.Add(item.Name);
        }

        return names;
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
