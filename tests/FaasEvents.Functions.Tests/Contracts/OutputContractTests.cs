using System.Net;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Contracts;

/// <summary>
/// A function whose output stream is owned by another identity cannot write to it: nothing reaches the stream, the
/// partition does not move past the event, and /healthz names the owner and the function's identity.
/// </summary>
public sealed class OutputContractTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    public static class Functions
    {
        [Function("oc-copy")]
        [EventOutput("oc-owned")]
        public static string Copy([EventTrigger("oc-in")] string text) => text;
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

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions), configure: b => b.Configuration["FAAS_IDENTITY"] = "copy-app");
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
        Assert.Equal(0, (await log.GetPartitionsAsync("oc-owned"))[0].EndOffset); // nothing written
        Assert.True((await log.Checkpoints.GetAsync("oc-copy", "oc-in", 0))?.NextOffset is null or 0); // and the event is not passed
        await app.StopAsync();
    }
}
