using System.Collections.Concurrent;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// A queue-consumed function under a lifecycle race on Azurite: its stream deleted and created again while the
/// instance runs. The instance must consume the new stream through the new stream's queues (where the scaler and the
/// admin commands look), not go on settling in queues of a stream that no longer exists.
/// </summary>
[Collection(nameof(QueueLifecycleTests))] // the handler's static state
public sealed class QueueLifecycleTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string LatestHostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": { "initialOffset": "latest", "pollInterval": "00:00:00.050" } } }
        """;

    public static class Jobs
    {
        public static readonly ConcurrentDictionary<string, int> Handled = new();

        [Function("ql-jobs")]
        public static void Handle([EventTrigger("ql-in", Mode = Consumption.Queue)] LogEvent e) => Handled.AddOrUpdate(e.Id, 1, (_, n) => n + 1);
    }

    [Fact]
    public async Task A_stream_deleted_and_created_again_under_a_running_queue_instance_is_consumed_through_its_new_queues()
    {
        Jobs.Handled.Clear();
        EventLogClient log = azurite.CreateClient();
        StreamDefinition first = await log.CreateStreamAsync(new StreamDefinition { Name = "ql-in", Partitions = 2 });
        await Send(log, "old-0", "old-1", "old-2");
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Jobs));
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(async () => Jobs.Handled.Count == 3 && (await log.GetQueueStatesAsync("ql-jobs", "ql-in")).All(q => q is null || q.InFlight.Count == 0), "the old stream's events handled and settled");

        await log.DeleteStreamAsync("ql-in");
        StreamDefinition second = await log.CreateStreamAsync(new StreamDefinition { Name = "ql-in", Partitions = 2 });
        Assert.NotEqual(first.CreatedAt, second.CreatedAt);
        await Send(log, "new-0", "new-1", "new-2", "new-3");

        // Handled, and settled in the new stream's queues: the scaler sees no lag left, so KEDA can scale to zero.
        await AppHarness.WaitUntilAsync(() => Enumerable.Range(0, 4).All(i => Jobs.Handled.ContainsKey($"new-{i}")), "the new stream's events handled");
        await AppHarness.WaitUntilAsync(async () => (await log.GetQueueLagAsync("ql-in", "ql-jobs")).TotalLag == 0, "the new stream's queues show every event settled");
        List<string> queueBlobs = [.. (await log.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "queues/ql-in/", CancellationToken.None).ToListAsync()).Select(b => b.Name)];
        Assert.NotEmpty(queueBlobs);
        Assert.All(queueBlobs, name => Assert.StartsWith($"queues/ql-in/{second.CreatedAt.UtcTicks}/", name, StringComparison.Ordinal)); // nothing under the old stream's path
        Assert.All(Jobs.Handled, kv => Assert.Equal(1, kv.Value)); // duplicated: none
    }

    [Fact]
    public async Task A_group_starting_at_latest_delivers_every_event_of_a_stream_created_again_under_it()
    {
        Jobs.Handled.Clear();
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ql-in", Partitions = 2 });
        await Send(log, "history-0", "history-1"); // before the group first saw the stream: skipped
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Jobs), LatestHostJson);
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(async () => (await log.GetQueueStatesAsync("ql-jobs", "ql-in")).All(q => q is not null), "the group pinned its start at the end");
        await Send(log, "old-0");
        await AppHarness.WaitUntilAsync(() => Jobs.Handled.ContainsKey("old-0"), "an event after the start handled");

        await log.DeleteStreamAsync("ql-in");
        await log.CreateStreamAsync(new StreamDefinition { Name = "ql-in", Partitions = 2 });
        await Send(log, "new-0", "new-1", "new-2"); // the instance notices the re-creation only after these: still delivered

        await AppHarness.WaitUntilAsync(() => Enumerable.Range(0, 3).All(i => Jobs.Handled.ContainsKey($"new-{i}")), "every event of the new stream handled");
        await AppHarness.WaitUntilAsync(async () => (await log.GetQueueLagAsync("ql-in", "ql-jobs")).TotalLag == 0, "the new stream's queues show every event settled");
        Assert.False(Jobs.Handled.ContainsKey("history-0"));
        Assert.All(Jobs.Handled, kv => Assert.Equal(1, kv.Value));
    }

    private static async Task Send(EventLogClient log, params string[] ids)
    {
        await using EventProducerClient producer = log.CreateProducer("ql-in");
        await producer.SendBatchAsync(ids.Select(id => new LogEvent(id, "/tests", "job")));
    }
}
