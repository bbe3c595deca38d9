using System.Collections.Concurrent;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Testing;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>In a batch function one poison event is dead-lettered alone, not with the whole chunk (issue 12, item 12).</summary>
public class BatchPoisonTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": { "maxBatchSize": 10, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050",
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 1, "delayInterval": "00:00:00.010" } } } }
        """;

    public static class Functions
    {
        public static ConcurrentBag<string> Handled { get; } = [];

        [Function("bp-fn")]
        public static void Handle([EventTrigger("bp-in")] IReadOnlyList<StoredEvent> batch)
        {
            if (batch.Any(e => e.Event.Id == "e3"))
            {
                throw new InvalidOperationException("e3 is poison");
            }

            foreach (StoredEvent e in batch)
            {
                Handled.Add(e.Event.Id);
            }
        }
    }

    [Fact]
    public async Task Only_the_poison_event_of_a_batch_is_dead_lettered_and_the_others_are_handled()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "bp-in", Partitions = 1 });
        await using (EventProducerClient producer = log.CreateProducer("bp-in"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 8).Select(i => new LogEvent($"e{i}", "/t", "t")).ToList()); // one batch of 8
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions), HostJson);
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("bp-in", "bp-fn")).TotalLag == 0, "the batch settled");
        await app.StopAsync();

        Assert.Equal(["e3"], (await TestEvents.ReadAllAsync(log, "bp-in.bp-fn.deadletter")).Select(e => e.Event.Id));
        Assert.Equal(["e0", "e1", "e2", "e4", "e5", "e6", "e7"], Functions.Handled.Distinct().Order(StringComparer.Ordinal));
    }
}
