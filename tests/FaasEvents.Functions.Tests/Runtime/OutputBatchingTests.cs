using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>What a function's outputs cost in storage requests (issue 19): one Append Block per output partition per chunk, not one per output event.</summary>
public class OutputBatchingTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    public static class Audit
    {
        [Function("ob-audit")]
        [EventOutput("ob-out")]
        public static string Handle([EventTrigger("ob-in")] LogEvent e) => e.Id + "-audited";
    }

    [Fact]
    public async Task Outputs_of_100_events_in_chunks_of_10_cost_at_most_one_append_per_output_partition_per_chunk()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ob-in", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "ob-out", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("ob-in"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 100).Select(i => new LogEvent($"o{i}", "/t", "t") { PartitionKey = $"k{i % 10}" }).ToList());
        }

        var counter = new StorageRequestCounter();
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Audit), configure: b => b.Services.AddSingleton(counter.CreateOptions())); // maxBatchSize 10
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("ob-in", "ob-audit")).TotalLag == 0, "the 100 events handled and checkpointed");
        await app.StopAsync();

        List<StoredEvent> outputs = await TestEvents.ReadAllAsync(log, "ob-out");
        Assert.Equal(100, outputs.Count);
        int appends = counter.ByOperation.GetValueOrDefault(StorageOperation.AppendBlock);
        output.WriteLine($"100 output events: {appends} Append Block requests ({appends / 100.0:0.00} per output event); all requests of the app: {counter}");
        Assert.InRange(appends, 2, 30); // 10 chunks x 2 output partitions = 20 at most, plus a few re-sent requests (a retried Append Block counts again); 100 before batching
    }
}
