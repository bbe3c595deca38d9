using System.Net;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Contracts;

/// <summary>
/// Outputs are checked against their stream's contract when the handler returns: an output that does not match the
/// schema is the handler's failure (retried, then its input is dead-lettered; the other inputs' outputs are written);
/// outputs to a stream owned by another identity halt the partition (no retry or dead letter helps), naming the owner
/// and the function's identity, with nothing written.
/// </summary>
public sealed class OutputContractTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 10, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050",
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 1, "delayInterval": "00:00:00" } } } }
        """;

    public sealed record Priced(string Sku, decimal Price);

    public static class CopyFunctions
    {
        [Function("oc-copy")]
        [EventOutput("oc-owned")]
        public static string Copy([EventTrigger("oc-in")] string text) => text;
    }

    public static class PriceFunctions
    {
        [Function("oc-price")]
        [EventOutput("oc-priced")]
        public static Priced Price([EventTrigger("oc-skus")] string sku) => new(sku, sku == "broken" ? -1 : 10);
    }

    [Fact]
    public async Task An_output_that_breaks_the_schema_is_the_handlers_failure_and_its_input_is_dead_lettered()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "oc-skus", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "oc-priced", Partitions = 1 });
        await log.Schemas.RegisterAsync("oc-priced", """{"type": "object", "required": ["sku", "price"], "properties": {"sku": {"type": "string"}, "price": {"type": "number", "minimum": 0}}}""");
        await using (EventProducerClient producer = log.CreateProducer("oc-skus"))
        {
            await producer.SendBatchAsync(new[] { "a", "broken", "b" }.Select(s => new LogEvent(s, "/t", "sku") { DataContentType = "text/plain", Data = BinaryData.FromString(s) }));
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(PriceFunctions), HostJson);
        await app.StartAsync();
        string? deadLetters = null;
        await AppHarness.WaitUntilAsync(async () =>
        {
            deadLetters = await log.ListStreamsAsync().Select(s => s.Name).FirstOrDefaultAsync(n => n.Contains("deadletter", StringComparison.Ordinal) && n.Contains("oc-price", StringComparison.Ordinal));
            return deadLetters is not null && (await log.GetPartitionsAsync(deadLetters))[0].EndOffset == 1 && (await log.GetPartitionsAsync("oc-priced"))[0].EndOffset == 2;
        }, "the broken sku dead-lettered, the others priced", 60);
        await app.StopAsync();

        StoredEvent letter = Assert.Single(await log.ReadPartitionAsync(deadLetters!, 0).ToListAsync());
        Assert.Equal("broken", letter.Event.Id);
        Assert.Contains("$.price", (string)letter.Event.Extensions["dlqerror"], StringComparison.Ordinal);
        Assert.Equal(["a", "b"], (await log.ReadPartitionAsync("oc-priced", 0).ToListAsync()).Select(e => e.Event.Data!.ToObjectFromJson<Priced>(new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!.Sku));
    }

    [Fact]
    public async Task Outputs_to_a_stream_owned_by_another_identity_are_refused_and_reported()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "oc-in", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "oc-owned", Partitions = 1 });
        await log.Schemas.SetOwnerAsync("oc-owned", "billing-service", by: "test");
        await using (EventProducerClient producer = log.CreateProducer("oc-in"))
        {
            await producer.SendAsync(new LogEvent("e1", "/t", "text") { DataContentType = "text/plain", Data = BinaryData.FromString("hello") });
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(CopyFunctions), HostJson, b => b.Configuration["FAAS_IDENTITY"] = "copy-app");
        await app.StartAsync();
        using var http = new HttpClient();
        string health = "";
        await AppHarness.WaitUntilAsync(async () =>
        {
            HttpResponseMessage r = await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"));
            health = await r.Content.ReadAsStringAsync();
            return r.StatusCode == HttpStatusCode.ServiceUnavailable && health.Contains("single writer", StringComparison.Ordinal);
        }, "health names the refused output", 60);

        Assert.Contains("single writer, 'billing-service'; this producer is 'copy-app'", health, StringComparison.Ordinal);
        Assert.Contains("\"haltedPartitions\":[0]", health, StringComparison.Ordinal); // stopped, not retried or dead-lettered
        Assert.Equal(0, (await log.GetPartitionsAsync("oc-owned"))[0].EndOffset); // nothing written
        Assert.True((await log.Checkpoints.GetAsync("oc-copy", "oc-in", 0))?.NextOffset is null or 0); // and the event is not passed
        await app.StopAsync();
    }
}
