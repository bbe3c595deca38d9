using System.Collections.Concurrent;
using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Testing;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>With batchCheckpointFrequency above 1, the unchecked tail is checkpointed once the partition goes idle, so lag reaches 0 and KEDA can scale to zero (issue 12, defect 9).</summary>
public class IdleCheckpointTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 1, "batchCheckpointFrequency": 5, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01",
            "pollInterval": "00:00:00.050" } } }
        """;

    public static class Functions
    {
        public static ConcurrentQueue<string> Seen { get; } = new();

        [Function("idle-fn")]
        public static void Handle([EventTrigger("idle-in")] CloudEvent e) => Seen.Enqueue(e.Id!);
    }

    [Fact]
    public async Task The_unchecked_tail_is_checkpointed_when_the_partition_goes_idle_so_lag_reaches_zero()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "idle-in", Partitions = 1 });
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions), HostJson);
        await app.StartAsync();
        await using (EventProducerClient producer = azurite.CreateClientFor(log).CreateProducer("idle-in"))
        {
            for (int i = 0; i < 3; i++)
            {
                await producer.SendAsync(new LogEvent($"idle-{i}", "/t", "t")); // 3 batches: fewer than the frequency of 5
            }
        }

        await AppHarness.WaitUntilAsync(() => Functions.Seen.Count >= 3, "the three events handled");
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("idle-in", "idle-fn")).TotalLag == 0, "lag 0 while the app is idle and still running", 10);
        await app.StopAsync();
    }
}
