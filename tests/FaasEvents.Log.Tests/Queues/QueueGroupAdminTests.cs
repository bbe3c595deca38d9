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
}
