using FaasEvents.Log.Groups;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Queues;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Queues;

/// <summary>Queue groups in the group admin operations: listed, described, and deleted (refused while events are locked unless forced).</summary>
public class QueueGroupAdminTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Lock = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_queue_group_is_listed_described_and_deleted_only_when_forced_while_instances_hold_locks()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "jobs", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("jobs"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 5).Select(i => TestEvents.Json($"j{i}")), 0);
        }

        PartitionQueue q0 = await log.OpenQueueAsync("workers", "jobs", 0);
        IReadOnlyList<QueueDelivery> held = await q0.AcquireAsync("instance-a", 2, Lock, endOffset: 5);
        await log.Checkpoints.UpdateAsync("auditors", "jobs", 0, 5); // a stream group beside it

        IReadOnlyList<ConsumerGroupInfo> groups = await log.Groups.ListAsync("jobs");
        Assert.Equal([("auditors", "stream"), ("workers", "queue")], groups.Select(g => (g.Group, g.Consumption)));
        Assert.Equal(1, groups.Single(g => g.Group == "workers").Partitions); // one partition has queue state

        QueuePartitionState p0 = (await log.Groups.DescribeQueueAsync("jobs", "workers"))![0];
        Assert.Equal((5L, 2), (p0.Unsettled, p0.Locked));
        Assert.Equal(["instance-a"], p0.Owners);

        EventLogException refused = await Assert.ThrowsAsync<EventLogException>(() => log.Groups.DeleteAsync("jobs", "workers"));
        Assert.Equal(EventLogErrorReason.GroupInUse, refused.Reason);
        Assert.Contains("instance-a", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--force", refused.Message, StringComparison.Ordinal);

        Assert.Equal(1, await log.Groups.DeleteAsync("jobs", "workers", force: true));
        Assert.Null(await log.Groups.DescribeQueueAsync("jobs", "workers")); // consumed from the start again by the next instance
        Assert.Equal([held[0].Offset, held[1].Offset], await q0.SettleAsync("instance-a", [.. held.Select(d => new QueueSettlement(d.Offset, QueueOutcome.Accepted))])); // the fenced holder's outcomes are refused
        Assert.Equal(["auditors"], (await log.Groups.ListAsync("jobs")).Select(g => g.Group));
    }

    [Fact]
    public async Task A_queue_group_is_reset_like_a_stream_group_and_refused_while_instances_hold_locks_unless_forced()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "redo", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("redo"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 10).Select(i => TestEvents.Json($"a{i}")), 0);
            await producer.SendBatchAsync(Enumerable.Range(0, 4).Select(i => TestEvents.Json($"b{i}")), 1);
        }

        PartitionQueue q0 = await log.OpenQueueAsync("workers", "redo", 0);
        PartitionQueue q1 = await log.OpenQueueAsync("workers", "redo", 1);
        IReadOnlyList<QueueDelivery> done = await q0.AcquireAsync("instance-a", 10, Lock, endOffset: 10);
        await q0.SettleAsync("instance-a", [.. done.Select(d => new QueueSettlement(d.Offset, QueueOutcome.Accepted))]); // partition 0 all handled
        IReadOnlyList<QueueDelivery> held = await q1.AcquireAsync("instance-b", 2, Lock, endOffset: 4); // partition 1: two locked

        IReadOnlyList<PartitionReset> plan = await log.Groups.ResetAsync("redo", "workers", GroupResetTarget.Earliest, dryRun: true);
        Assert.Equal([(0, (long?)10, 0L, 0L, 10L), (1, 0, 0, 4, 4)], plan.Select(p => (p.Partition, p.From, p.To, p.LagBefore, p.LagAfter)));
        Assert.Equal(10, (await q0.GetStateAsync()).SettledBelow); // a dry run writes nothing

        EventLogException refused = await Assert.ThrowsAsync<EventLogException>(() => log.Groups.ResetAsync("redo", "workers", GroupResetTarget.Earliest));
        Assert.Equal(EventLogErrorReason.GroupInUse, refused.Reason);
        Assert.Contains("instance-b", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--force", refused.Message, StringComparison.Ordinal);
        Assert.Equal(10, (await q0.GetStateAsync()).SettledBelow); // all or nothing: partition 0 was not moved either

        // Partition 0 alone holds no lock: replayed from offset 3, its events are delivered again.
        await log.Groups.ResetAsync("redo", "workers", GroupResetTarget.ToOffset(3), partition: 0);
        Assert.Equal(7, (await log.Groups.DescribeQueueAsync("redo", "workers"))![0].Unsettled);
        Assert.Equal([3L, 4, 5, 6, 7, 8, 9], (await q0.AcquireAsync("instance-c", 10, Lock, endOffset: 10)).Select(d => d.Offset));
        Assert.Empty(await log.Checkpoints.ListAsync("workers", "redo")); // a queue group's reset writes no stream checkpoints

        // Forced to the end: the locks held go, their holders' outcomes are refused, nothing is left to deliver.
        IReadOnlyList<PartitionReset> forced = await log.Groups.ResetAsync("redo", "workers", GroupResetTarget.Latest, force: true);
        Assert.Equal([(0, 10L), (1, 4L)], forced.Select(p => (p.Partition, p.To)));
        Assert.Equal([0L, 0L], (await log.Groups.DescribeQueueAsync("redo", "workers"))!.Select(p => p.Unsettled));
        Assert.Equal([held[0].Offset, held[1].Offset], await q1.SettleAsync("instance-b", [.. held.Select(d => new QueueSettlement(d.Offset, QueueOutcome.Accepted))]));
    }
}
