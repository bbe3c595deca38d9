using System.Net;
using System.Text.Json;
using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Testing;
using FaasEvents.Testing.Faults;
using Microsoft.Extensions.DependencyInjection;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// A dead letter is always writable, or the partition says why it is not (issue 12, defect 3): an event near the size
/// limit is dead-lettered without its data instead of being retried forever; a dead letter that can never be written
/// halts the partition with the reason; a dead-letter write storage keeps refusing shows in /healthz.
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

    public static class BigEvent
    {
        [Function("dlw-big")]
        public static void Big([EventTrigger("dlw-big-in")] CloudEvent e)
        {
            if (e.Type == "poison")
            {
                throw new InvalidOperationException("refused: " + new string('r', 1500)); // dlqerror keeps 1,024 characters of it
            }
        }
    }

    public static class HugeIdEvent
    {
        [Function("dlw-id")]
        public static void HugeId([EventTrigger("dlw-id-in")] CloudEvent e) => throw new InvalidOperationException("always");

    }

    public static class RefusedLetter
    {
        [Function("dlw-refused")]
        public static void Refused([EventTrigger("dlw-refused-in")] CloudEvent e) => throw new InvalidOperationException("always");
    }

    [Fact]
    public async Task An_event_near_the_size_limit_is_dead_lettered_without_its_data_and_the_partition_moves_on()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "dlw-big-in", Partitions = 1 });
        var big = new LogEvent("big", "/t", "poison") { DataContentType = "application/octet-stream", Subject = "s-1" };
        big.Extensions["tenant"] = "acme";
        big.Data = BinaryData.FromBytes(new byte[LogEvent.MaxEncodedSize - 300]);
        Assert.InRange(big.EncodedSize, LogEvent.MaxEncodedSize - 300, LogEvent.MaxEncodedSize); // fits: it was accepted
        await using (EventProducerClient producer = log.CreateProducer("dlw-big-in"))
        {
            await producer.SendAsync(big);
            await producer.SendAsync(new LogEvent("after", "/t", "good"));
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(BigEvent), HostJson);
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("dlw-big-in", "dlw-big")).TotalLag == 0, "the big poison event dead-lettered and the partition past it", 60);
        await app.StopAsync();

        StoredEvent letter = Assert.Single(await TestEvents.ReadAllAsync(log, "dlw-big-in.dlw-big.deadletter"));
        Assert.Equal(("big", "poison", "s-1", "acme"), (letter.Event.Id, letter.Event.Type, letter.Event.Subject, letter.Event.Extensions["tenant"].ToString()));
        Assert.Null(letter.Event.Data); // left out by the rule, and said so:
        Assert.Equal("data", letter.Event.Extensions["dlqomitted"].ToString());
        Assert.Equal((LogEvent.MaxEncodedSize - 300).ToString(System.Globalization.CultureInfo.InvariantCulture), letter.Event.Extensions["dlqdatasize"].ToString());
        Assert.Equal(("dlw-big-in", "0"), (letter.Event.Extensions["dlqstream"].ToString(), letter.Event.Extensions["dlqoffset"].ToString())); // where the data still is
        Assert.StartsWith("InvalidOperationException: refused: rrr", letter.Event.Extensions["dlqerror"].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dead_letter_that_can_never_be_written_halts_the_partition_with_the_reason_instead_of_retrying_forever()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "dlw-id-in", Partitions = 1 });
        var huge = new LogEvent(new string('i', LogEvent.MaxEncodedSize - 100), "/t", "t"); // the id alone nearly fills an event: no rule can shrink it
        await using (EventProducerClient producer = log.CreateProducer("dlw-id-in"))
        {
            await producer.SendAsync(huge);
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(HugeIdEvent), HostJson);
        await app.StartAsync();
        using var http = new HttpClient();
        await AppHarness.WaitUntilAsync(async () => (await HealthAsync(http, app)).Contains("\"haltedPartitions\":[0]", StringComparison.Ordinal), "the partition reported halted", 30);
        string health = await HealthAsync(http, app);
        await app.StopAsync();

        Assert.Contains("dead letter", health, StringComparison.Ordinal); // the reason, for whoever looks
        Assert.Contains("limit", health, StringComparison.Ordinal);
        Assert.True((await log.Checkpoints.GetAsync("dlw-id", "dlw-id-in", 0))?.NextOffset is null or 0, "the event was checkpointed past without a dead letter");
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

        Assert.Contains("faas_function_partition_stalled{function=\"dlw-refused\",stream=\"dlw-refused-in\",group=\"dlw-refused\",partition=\"0\"} 1", await http.GetStringAsync(new Uri($"http://127.0.0.1:{app.Port}/metrics")), StringComparison.Ordinal);

        faults.Clear(); // storage answers again: the letter is written and health recovers
        await AppHarness.WaitUntilAsync(async () => (await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"))).StatusCode == HttpStatusCode.OK, "health healthy again", 60);
        await app.StopAsync();
        Assert.Equal("p-1", Assert.Single(await TestEvents.ReadAllAsync(log, "dlw-refused-in.dlw-refused.deadletter")).Event.Id);
    }

    private static async Task<string> HealthAsync(HttpClient http, FunctionsApp app) =>
        await (await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"))).Content.ReadAsStringAsync();
}
