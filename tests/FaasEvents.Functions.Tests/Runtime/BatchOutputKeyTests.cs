using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Testing;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>A batch function's outputs keep the key of the input they belong to (issue 12, defect 2), so per-key order survives.</summary>
public class BatchOutputKeyTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": { "maxBatchSize": 10, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050" } } }
        """;

    public static class Functions
    {
        /// <summary>Returns one output per input, in input order: output i belongs to input i.</summary>
        [Function("bk-aligned")]
        [EventOutput("bk-aligned-out")]
        public static IEnumerable<string> Aligned([EventTrigger("bk-in")] IReadOnlyList<StoredEvent> batch) => batch.Select(e => "out-" + e.Event.Id);

        /// <summary>Says which input each output belongs to.</summary>
        [Function("bk-explicit")]
        [EventOutput("bk-explicit-out")]
        public static string[] Explicit([EventTrigger("bk-in")] IReadOnlyList<StoredEvent> batch, FunctionContext context)
        {
            foreach (StoredEvent e in batch.Where(e => !e.Event.Id.EndsWith("-skip", StringComparison.Ordinal)))
            {
                context.AddOutput("out-" + e.Event.Id, e); // not aligned with the inputs: says which input each belongs to
            }

            return [];
        }
    }

    [Fact]
    public async Task Outputs_of_a_batch_with_inputs_keyed_a_b_c_keep_their_inputs_keys()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "bk-in", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "bk-aligned-out", Partitions = 4 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "bk-explicit-out", Partitions = 4 });
        string[] keys = ["a", "b", "c", "a", "c", "b"];
        await using (EventProducerClient producer = log.CreateProducer("bk-in"))
        {
            // One batch of six: the function gets them in one invocation.
            await producer.SendBatchAsync(keys.Select((k, i) => new LogEvent($"e{i}{(i == 2 ? "-skip" : "")}", "/t", "t") { PartitionKey = k }).ToList());
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions), HostJson);
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("bk-in", "bk-aligned")).TotalLag == 0 && (await log.GetLagAsync("bk-in", "bk-explicit")).TotalLag == 0, "both functions handled the batch");
        await app.StopAsync();

        var aligned = (await TestEvents.ReadAllAsync(log, "bk-aligned-out")).ToDictionary(e => e.Event.Data!.ToString(), e => e.Event.PartitionKey);
        Assert.Equal(keys.Select((k, i) => ($"out-e{i}{(i == 2 ? "-skip" : "")}", (string?)k)).OrderBy(x => x.Item1), aligned.Select(kv => (kv.Key, kv.Value)).OrderBy(x => x.Key));
        var explicitly = (await TestEvents.ReadAllAsync(log, "bk-explicit-out")).ToDictionary(e => e.Event.Data!.ToString(), e => e.Event.PartitionKey);
        Assert.Equal(keys.Select((k, i) => ($"out-e{i}", (string?)k)).Where((_, i) => i != 2).OrderBy(x => x.Item1), explicitly.Select(kv => (kv.Key, kv.Value)).OrderBy(x => x.Key));
    }
}
