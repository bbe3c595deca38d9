using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Groups;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Groups;

/// <summary>
/// Consumer-group administration: list and describe groups, reset checkpoints to each kind of target (dry run first),
/// refuse to change a group while instances hold it, fence them when forced, and delete a group.
/// </summary>
public class ConsumerGroupsClientTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Groups_are_listed_and_described_with_checkpoint_lag_owner_and_lease()
    {
        EventLogClient log = await StreamWithEventsAsync(10, 6);
        await log.Checkpoints.UpdateAsync("billing", "orders", 0, 3);
        PartitionLease held = (await log.CreateLeaseClient("instance-a").TryAcquireAsync("billing", "orders", 1, Lease))!;
        await log.Checkpoints.UpdateAsync("billing", "orders", 1, 2, held);
        await log.Checkpoints.UpdateAsync("audit", "orders", 0, 10);

        IReadOnlyList<ConsumerGroupInfo> groups = await log.Groups.ListAsync("orders");
        Assert.Equal([new ConsumerGroupInfo("audit", "orders", 1, 0), new ConsumerGroupInfo("billing", "orders", 2, 1)], groups);

        IReadOnlyList<GroupPartitionState> billing = await log.Groups.DescribeAsync("orders", "billing");
        Assert.Equal((0, 3L, 7L, false), (billing[0].Partition, billing[0].Checkpoint!.Value, billing[0].Lag, billing[0].IsOwned));
        Assert.Equal((1, 2L, 4L, true, "instance-a", "leased"), (billing[1].Partition, billing[1].Checkpoint!.Value, billing[1].Lag, billing[1].IsOwned, billing[1].Owner, billing[1].Lease));
        Assert.NotNull(billing[0].CheckpointedAt);
        Assert.NotNull(billing[0].OldestUnhandledAt); // lagging: the age of the event at its checkpoint
        Assert.Null((await log.Groups.DescribeAsync("orders", "audit"))[0].OldestUnhandledAt); // caught up
        Assert.Equal(Lease, billing[1].LeaseDuration); // storage says only "leased": the claim records how long a lease lasts unrenewed
    }

    [Fact]
    public async Task What_a_function_did_adds_up_in_its_checkpoints_across_writers_survives_a_reset_and_is_summed_by_the_listing()
    {
        EventLogClient log = await StreamWithEventsAsync(10, 6);
        PartitionLease held = (await log.CreateLeaseClient("instance-a").TryAcquireAsync("billing", "orders", 0, Lease))!;
        await log.Checkpoints.UpdateAsync("billing", "orders", 0, 3, null, null, new WorkCounts(3, 1, 1, 0, 1), held);
        await log.Checkpoints.UpdateAsync("billing", "orders", 0, 5, null, null, new WorkCounts(2, 0, 0, 1, 0), held);
        await log.Checkpoints.UpdateAsync("billing", "orders", 1, 4, null, null, new WorkCounts(4, 0, 0, 0, 1), null);
        await log.Checkpoints.UpdateAsync("audit", "orders", 0, 10);

        // Another process writes the same checkpoint: this one's remembered ETag is stale, so it re-reads and adds to the newer counts.
        await log.CreateLeaseClient("instance-a").ReleaseAsync(held);
        await azurite.CreateClientFor(log).Checkpoints.UpdateAsync("billing", "orders", 0, 6, null, null, new WorkCounts(1, 0, 0, 0, 1), null);
        await log.Checkpoints.UpdateAsync("billing", "orders", 0, 7, null, null, new WorkCounts(1, 0, 0, 0, 0), null);

        IReadOnlyList<GroupPartitionState> billing = await log.Groups.DescribeAsync("orders", "billing");
        Assert.Equal(new WorkCounts(7, 1, 1, 1, 2), billing[0].Counts);
        Assert.Equal(new WorkCounts(4, 0, 0, 0, 1), billing[1].Counts);
        Assert.Equal(new WorkCounts(7, 1, 1, 1, 2), (await log.Checkpoints.GetAsync("billing", "orders", 0))!.Counts);

        await log.Groups.ResetAsync("orders", "billing", GroupResetTarget.Earliest); // a replay is more work, not a fresh count
        IReadOnlyList<ConsumerGroupInfo> groups = await log.Groups.ListAsync("orders");
        Assert.Equal(new WorkCounts(11, 1, 1, 1, 3), groups.Single(g => g.Group == "billing").Counts);
        Assert.Null(groups.Single(g => g.Group == "audit").Counts); // nothing counted: not zeros
    }

    [Fact]
    public async Task An_unknown_group_or_stream_is_named_with_what_exists()
    {
        EventLogClient log = await StreamWithEventsAsync(1, 1);
        await log.Checkpoints.UpdateAsync("billing", "orders", 0, 1);

        EventLogException group = await Assert.ThrowsAsync<EventLogException>(() => log.Groups.DescribeAsync("orders", "biling"));
        Assert.Equal(EventLogErrorReason.GroupNotFound, group.Reason);
        Assert.Contains("'biling'", group.Message, StringComparison.Ordinal);
        Assert.Contains("its groups: billing", group.Message, StringComparison.Ordinal);
        Assert.Equal(EventLogErrorReason.GroupNotFound, (await Assert.ThrowsAsync<EventLogException>(() => log.Groups.ResetAsync("orders", "biling", GroupResetTarget.Earliest))).Reason);
        Assert.Equal(EventLogErrorReason.StreamNotFound, (await Assert.ThrowsAsync<EventLogException>(() => log.Groups.DescribeAsync("ordres", "billing"))).Reason);
        Assert.Equal(EventLogErrorReason.InvalidArgument, (await Assert.ThrowsAsync<EventLogException>(() => log.Groups.ResetAsync("orders", "billing", GroupResetTarget.Latest, partition: 5))).Reason);
        Assert.Equal(EventLogErrorReason.InvalidArgument, Assert.Throws<EventLogException>(() => GroupResetTarget.ParseTime("yesterday")).Reason);
    }

    [Fact]
    public async Task Each_target_moves_each_partition_within_its_retained_range_and_a_dry_run_changes_nothing()
    {
        EventLogClient log = await StreamWithEventsAsync(10, 6);
        await log.Checkpoints.UpdateAsync("g", "orders", 0, 4);
        await log.Checkpoints.UpdateAsync("g", "orders", 1, 4);

        IReadOnlyList<PartitionReset> preview = await log.Groups.ResetAsync("orders", "g", GroupResetTarget.Earliest, dryRun: true);
        Assert.Equal([(0, 4L, 0L, 6L, 10L), (1, 4L, 0L, 2L, 6L)], preview.Select(r => (r.Partition, r.From!.Value, r.To, r.LagBefore, r.LagAfter)));
        Assert.Equal([4L, 4L], (await log.Groups.DescribeAsync("orders", "g")).Select(s => s.Checkpoint!.Value)); // nothing written

        Assert.Equal([10L, 6L], (await ResetAsync(log, GroupResetTarget.Latest)).Select(r => r.To));
        Assert.Equal([0L, 0L], (await ResetAsync(log, GroupResetTarget.Earliest)).Select(r => r.To));
        Assert.Equal([3L, 3L], (await ResetAsync(log, GroupResetTarget.ShiftBy(3))).Select(r => r.To));
        Assert.Equal([1L, 1L], (await ResetAsync(log, GroupResetTarget.ShiftBy(-2))).Select(r => r.To));

        IReadOnlyList<PartitionReset> offset = await ResetAsync(log, GroupResetTarget.ToOffset(8));
        Assert.Equal([8L, 6L], offset.Select(r => r.To)); // partition 1 ends at 6: kept within its range, and said so
        Assert.Null(offset[0].Note);
        Assert.Contains("past the end 6", offset[1].Note, StringComparison.Ordinal);

        IReadOnlyList<PartitionReset> one = await log.Groups.ResetAsync("orders", "g", GroupResetTarget.Earliest, partition: 1);
        Assert.Equal([1], one.Select(r => r.Partition));
        Assert.Equal([8L, 0L], (await log.Groups.DescribeAsync("orders", "g")).Select(s => s.Checkpoint!.Value));
    }

    [Fact]
    public async Task A_time_target_finds_the_first_event_written_at_or_after_it()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = 1 });
        await using (EventProducerClient producer = log.CreateProducer("orders"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 5).Select(i => TestEvents.Json($"early-{i}")));
            await Task.Delay(50);
            await producer.SendBatchAsync(Enumerable.Range(0, 5).Select(i => TestEvents.Json($"late-{i}")));
        }

        StoredEvent firstLate = (await TestEvents.ReadAllAsync(log, "orders")).Single(e => e.Event.Id == "late-0");
        await log.Checkpoints.UpdateAsync("g", "orders", 0, 10);

        Assert.Equal(firstLate.Offset, (await log.Groups.ResetAsync("orders", "g", GroupResetTarget.ToTime(firstLate.Timestamp))).Single().To);
        Assert.Equal(10L, (await log.Groups.ResetAsync("orders", "g", GroupResetTarget.ToTime(DateTimeOffset.UtcNow.AddHours(1)))).Single().To);
        Assert.Equal(0L, (await log.Groups.ResetAsync("orders", "g", GroupResetTarget.ParseTime("2020-01-01T00:00:00Z"))).Single().To);
    }

    [Fact]
    public async Task A_reset_while_an_instance_holds_a_partition_is_refused_and_forcing_fences_the_instance()
    {
        EventLogClient log = await StreamWithEventsAsync(10, 6);
        PartitionLease held = (await log.CreateLeaseClient("instance-a").TryAcquireAsync("g", "orders", 0, Lease))!;
        await log.Checkpoints.UpdateAsync("g", "orders", 0, 7, held);
        await log.Checkpoints.UpdateAsync("g", "orders", 1, 5);

        EventLogException refused = await Assert.ThrowsAsync<EventLogException>(() => log.Groups.ResetAsync("orders", "g", GroupResetTarget.Earliest));
        Assert.Equal(EventLogErrorReason.GroupInUse, refused.Reason);
        Assert.Contains("partition(s) 0 (instance-a)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--force", refused.Message, StringComparison.Ordinal);
        Assert.Equal([7L, 5L], (await log.Groups.DescribeAsync("orders", "g")).Select(s => s.Checkpoint!.Value)); // nothing changed

        await log.Groups.ResetAsync("orders", "g", GroupResetTarget.Earliest, force: true);
        Assert.Equal([0L, 0L], (await log.Groups.DescribeAsync("orders", "g")).Select(s => s.Checkpoint!.Value));
        // The fenced instance can neither checkpoint nor renew: it stops, and whoever claims the partition starts at 0.
        Assert.Equal(EventLogErrorReason.LeaseLost, (await Assert.ThrowsAsync<EventLogException>(() => log.Checkpoints.UpdateAsync("g", "orders", 0, 9, held))).Reason);
        Assert.Equal(EventLogErrorReason.LeaseLost, (await Assert.ThrowsAsync<EventLogException>(() => log.CreateLeaseClient("instance-a").RenewAsync(held))).Reason);
        Assert.False((await log.Groups.DescribeAsync("orders", "g"))[0].IsOwned); // the admin lease was released
        Assert.NotNull(await log.CreateLeaseClient("instance-b").TryAcquireAsync("g", "orders", 0, Lease));
        Assert.Equal(0L, (await log.Checkpoints.GetAsync("g", "orders", 0))!.NextOffset);
    }

    [Fact]
    public async Task An_instance_that_claims_the_partition_again_after_a_reset_checkpoints_its_replay()
    {
        // The instance's client remembers the checkpoint it last wrote (5); the reset comes from another process.
        EventLogClient instance = await StreamWithEventsAsync(10, 6);
        EventLogClient admin = azurite.CreateClientFor(instance);
        PartitionLease first = (await instance.CreateLeaseClient("instance-a").TryAcquireAsync("g", "orders", 0, Lease))!;
        Assert.True(await instance.Checkpoints.UpdateAsync("g", "orders", 0, 5, first));

        await admin.Groups.ResetAsync("orders", "g", GroupResetTarget.Earliest, partition: 0, force: true);

        // Fenced, it claims the partition again, reads 0, replays 3 events and checkpoints them: that must be written,
        // or lag stays wrong and the next owner replays them once more.
        PartitionLease again = (await instance.CreateLeaseClient("instance-a").TryAcquireAsync("g", "orders", 0, Lease))!;
        Assert.Equal(0L, (await instance.Checkpoints.GetAsync("g", "orders", 0))!.NextOffset);
        Assert.True(await instance.Checkpoints.UpdateAsync("g", "orders", 0, 3, again));
        Assert.Equal(3L, (await admin.Checkpoints.GetAsync("g", "orders", 0))!.NextOffset);
        Assert.False(await instance.Checkpoints.UpdateAsync("g", "orders", 0, 3, again)); // and still never backwards
    }

    [Fact]
    public async Task A_group_is_deleted_only_when_no_instance_holds_it_or_when_forced()
    {
        EventLogClient log = await StreamWithEventsAsync(4, 4);
        PartitionLease held = (await log.CreateLeaseClient("instance-a").TryAcquireAsync("g", "orders", 1, Lease))!;
        await log.Checkpoints.UpdateAsync("g", "orders", 0, 2);
        await log.Checkpoints.UpdateAsync("other", "orders", 0, 2);

        Assert.Equal(EventLogErrorReason.GroupInUse, (await Assert.ThrowsAsync<EventLogException>(() => log.Groups.DeleteAsync("orders", "g"))).Reason);
        Assert.Equal(2, (await log.Groups.ListAsync("orders")).Count);

        Assert.Equal(2, await log.Groups.DeleteAsync("orders", "g", force: true));
        Assert.Equal(["other"], (await log.Groups.ListAsync("orders")).Select(g => g.Group));
        Assert.Equal(EventLogErrorReason.GroupNotFound, (await Assert.ThrowsAsync<EventLogException>(() => log.Groups.DescribeAsync("orders", "g"))).Reason);
        Assert.Equal(EventLogErrorReason.LeaseLost, (await Assert.ThrowsAsync<EventLogException>(() => log.Checkpoints.UpdateAsync("g", "orders", 1, 3, held))).Reason); // fenced, not re-created
    }

    [Fact]
    public async Task A_delete_that_meets_an_instance_claiming_a_partition_meanwhile_deletes_nothing()
    {
        EventLogClient log = await StreamWithEventsAsync(4, 4);
        await log.Checkpoints.UpdateAsync("g", "orders", 0, 2);
        await log.Checkpoints.UpdateAsync("g", "orders", 1, 2);
        await log.Container.GetBlobClient("state/g/orders/00000/snapshot").UploadAsync(BinaryData.FromString("{}"));

        // The admin's lease request for partition 1 finds that an instance claimed it after the "held now?" check.
        var claim = new ClaimFirst(azurite.CreateClientFor(log), "groups/g/orders/1");
        var admin = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = log.Container.Name, StorageOptions = claim.Options() });

        EventLogException refused = await Assert.ThrowsAsync<EventLogException>(() => admin.Groups.DeleteAsync("orders", "g"));
        Assert.Equal(EventLogErrorReason.GroupInUse, refused.Reason);
        Assert.True(claim.Claimed);
        Assert.True(await log.Container.GetBlobClient("state/g/orders/00000/snapshot").ExistsAsync()); // the materialized state stays with its checkpoint
        Assert.Equal([2L, 2L], (await log.Groups.DescribeAsync("orders", "g")).Select(st => st.Checkpoint!.Value));
        Assert.Equal("available", (await log.Groups.DescribeAsync("orders", "g"))[0].Lease); // the admin let partition 0 go again
    }

    [Fact]
    public async Task A_reset_that_meets_an_instance_claiming_a_partition_meanwhile_changes_no_partition()
    {
        EventLogClient log = await StreamWithEventsAsync(4, 4);
        await log.Checkpoints.UpdateAsync("g", "orders", 0, 3);
        await log.Checkpoints.UpdateAsync("g", "orders", 1, 3);
        var claim = new ClaimFirst(azurite.CreateClientFor(log), "groups/g/orders/1");
        var admin = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = log.Container.Name, StorageOptions = claim.Options() });

        Assert.Equal(EventLogErrorReason.GroupInUse, (await Assert.ThrowsAsync<EventLogException>(() => admin.Groups.ResetAsync("orders", "g", GroupResetTarget.Earliest))).Reason);
        Assert.True(claim.Claimed);
        Assert.Equal([3L, 3L], (await log.Groups.DescribeAsync("orders", "g")).Select(st => st.Checkpoint!.Value)); // all or none
    }

    /// <summary>Before the first lease acquire on <c>blob</c>, another instance takes that lease (a claim that races the admin).</summary>
    private sealed class ClaimFirst(EventLogClient instance, string blob) : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        public bool Claimed { get; private set; }

        public Azure.Storage.Blobs.BlobClientOptions Options()
        {
            var options = new Azure.Storage.Blobs.BlobClientOptions();
            options.AddPolicy(this, Azure.Core.HttpPipelinePosition.PerCall);
            return options;
        }

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            Uri uri = message.Request.Uri.ToUri();
            if (!Claimed && uri.AbsolutePath.EndsWith("/" + blob, StringComparison.Ordinal) && uri.Query.Contains("comp=lease", StringComparison.Ordinal)
                && message.Request.Headers.TryGetValue("x-ms-lease-action", out string? action) && action == "acquire")
            {
                Claimed = true;
                await instance.CreateLeaseClient("instance-late").TryAcquireAsync("g", "orders", 1, TimeSpan.FromSeconds(15));
            }

            await ProcessNextAsync(message, pipeline);
        }
    }

    private static Task<IReadOnlyList<PartitionReset>> ResetAsync(EventLogClient log, GroupResetTarget target) => log.Groups.ResetAsync("orders", "g", target);

    /// <summary>Stream "orders" with two partitions holding <paramref name="first"/> and <paramref name="second"/> events.</summary>
    private async Task<EventLogClient> StreamWithEventsAsync(int first, int second)
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = 2 });
        await using EventProducerClient producer = log.CreateProducer("orders");
        await producer.SendBatchAsync(Enumerable.Range(0, first).Select(i => TestEvents.Json($"a{i}")), 0);
        await producer.SendBatchAsync(Enumerable.Range(0, second).Select(i => TestEvents.Json($"b{i}")), 1);
        return log;
    }
}
