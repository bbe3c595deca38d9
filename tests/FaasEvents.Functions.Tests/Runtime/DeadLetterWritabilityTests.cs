using System.Net;
using System.Text.Json;
using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using Microsoft.Extensions.DependencyInjection;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// A dead letter is always writable, or the partition says why it is not (issue 12, defect 3): a dead-letter write
/// storage keeps refusing shows in /healthz and the metrics. (The size rules and the halt are tested on the in-memory
/// store in PartitionProcessorTests.)
/// </summary>
public class DeadLetterWritabilityTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 10, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050",
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 1, "delayInterval": "00:00:00.050" } } } }
        """;

    public static class RefusedLetter
    {
        [Function("dlw-refused")]
        public static void Refused([EventTrigger("dlw-refused-in")] CloudEvent e) => throw new InvalidOperationException("always");
    }

    [Fact]
    public async Task A_dead_letter_write_storage_keeps_refusing_makes_health_degraded_naming_the_partition_and_clears_when_it_is_written()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "dlw-refused-in", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "dlw-refused-in.dlw-refused.deadletter", Partitions = 1 });
        var faults = new StorageFaultInjector();
        faults.Once(StorageOperation.AppendBlock, FaultKind.Refuse503, r => r.Uri.Path.Contains("/streams/dlw-refused-in.dlw-refused.deadletter/", StringComparison.Ordinal), times: int.MaxValue);
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(RefusedLetter), HostJson, b => b.Services.AddSingleton(faults.CreateOptions(sdkRetries: 0)));
        await app.StartAsync();
        await using (EventProducerClient producer = log.CreateProducer("dlw-refused-in"))
        {
            await producer.SendAsync(new LogEvent("p-1", "/t", "t"));
        }

        using var http = new HttpClient();
        await AppHarness.WaitUntilAsync(async () => (await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"))).StatusCode == HttpStatusCode.ServiceUnavailable, "health reports the stalled dead-letter write", 60);
        using (JsonDocument stuck = JsonDocument.Parse(await HealthAsync(http, app)))
        {
            JsonElement fn = stuck.RootElement.GetProperty("functions")[0];
            JsonElement stall = Assert.Single(fn.GetProperty("stalledPartitions").EnumerateArray());
            Assert.Equal(0, stall.GetProperty("partition").GetInt32());
            Assert.Contains("dead-letter", stall.GetProperty("write").GetString(), StringComparison.Ordinal);
            Assert.True(stall.GetProperty("failedTries").GetInt32() >= 3);
        }

        Assert.Equal(1, PrometheusText.Value(await http.GetStringAsync(new Uri($"http://127.0.0.1:{app.Port}/metrics")), "faas_function_partition_stalled", ("faas_name", "dlw-refused"), ("messaging_destination_name", "dlw-refused-in"), ("messaging_consumer_group_name", "dlw-refused"), ("messaging_destination_partition_id", "0")));

        faults.Clear(); // storage answers again: the letter is written and health recovers
        await AppHarness.WaitUntilAsync(async () => (await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"))).StatusCode == HttpStatusCode.OK, "health healthy again", 60);
        await app.StopAsync();
        Assert.Equal("p-1", Assert.Single(await TestEvents.ReadAllAsync(log, "dlw-refused-in.dlw-refused.deadletter")).Event.Id);
    }

    private static async Task<string> HealthAsync(HttpClient http, FunctionsApp app) =>
        await (await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"))).Content.ReadAsStringAsync();
}
