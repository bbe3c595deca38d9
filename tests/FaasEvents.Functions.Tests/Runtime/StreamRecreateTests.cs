using System.Collections.Concurrent;
using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>An admin deletes and re-creates a stream while an app consumes it: the new stream's events are all handled.</summary>
public class StreamRecreateTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    public static class Functions
    {
        public static ConcurrentQueue<string> Seen { get; } = new();

        [Function("rc-fn")]
        public static void Handle([EventTrigger("rc-in")] CloudEvent e) => Seen.Enqueue(e.Id!);
    }

    [Fact]
    public async Task A_stream_deleted_and_created_again_while_the_app_runs_has_every_new_event_handled_once()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "rc-in", Partitions = 2 });
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions));
        await app.StartAsync();
        await using (EventProducerClient producer = log.CreateProducer("rc-in"))
        {
            for (int i = 0; i < 20; i++)
            {
                await producer.SendAsync(new LogEvent($"old-{i}", "/t", "t") { PartitionKey = $"k{i}" });
            }
        }

        await AppHarness.WaitUntilAsync(() => Functions.Seen.Count(id => id.StartsWith("old-", StringComparison.Ordinal)) >= 20, "the old stream's events handled");

        await log.DeleteStreamAsync("rc-in");
        await Task.Delay(TimeSpan.FromSeconds(2)); // the app notices (or not) while the stream is gone
        await log.CreateStreamAsync(new StreamDefinition { Name = "rc-in", Partitions = 2 });
        await using (EventProducerClient producer = azurite.CreateClientFor(log).CreateProducer("rc-in"))
        {
            for (int i = 0; i < 10; i++)
            {
                await producer.SendAsync(new LogEvent($"new-{i}", "/t", "t") { PartitionKey = $"k{i}" }); // offsets restart at 0
            }
        }

        await AppHarness.WaitUntilAsync(() => Functions.Seen.Count(id => id.StartsWith("new-", StringComparison.Ordinal)) >= 10, "every event of the new stream handled (none skipped by the old stream's checkpoints)", 60);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(10, Functions.Seen.Count(id => id.StartsWith("new-", StringComparison.Ordinal))); // duplicated 0
        Assert.Equal(20, Functions.Seen.Count(id => id.StartsWith("old-", StringComparison.Ordinal))); // the old ones not again
        await app.StopAsync();
    }
}
