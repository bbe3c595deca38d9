using Azure.Storage.Blobs.Specialized;
using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>A partition that fails at every start is reported by /healthz, not restarted silently behind a 200 (issue 12, item 12).</summary>
public class FailingPartitionTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    public static class Functions
    {
        [Function("fp-fn")]
        public static void Handle([EventTrigger("fp-in")] CloudEvent e)
        {
        }
    }

    [Fact]
    public async Task A_partition_whose_segment_is_corrupt_makes_health_degraded_naming_it()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "fp-in", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("fp-in"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 10).Select(i => TestEvents.Json($"e{i}")), 1);
        }

        // A flipped byte in partition 1's only segment: every start of that partition fails reading it.
        AppendBlobClient segment = log.Container.GetAppendBlobClient("streams/fp-in/00001/00000000000000000000");
        byte[] bytes = (await segment.DownloadContentAsync()).Value.Content.ToArray();
        bytes[200] ^= 0x01;
        await segment.DeleteAsync();
        await segment.CreateAsync();
        await segment.AppendBlockAsync(new MemoryStream(bytes));

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions));
        await app.StartAsync();
        using var http = new HttpClient();
        await AppHarness.WaitUntilAsync(async () => (await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"))).StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, "health reports the failing partition", 30);
        string health = await (await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"))).Content.ReadAsStringAsync();
        Assert.Contains("\"failingPartitions\":[1]", health, StringComparison.Ordinal);
        Assert.Contains("checksum", health, StringComparison.Ordinal); // the reason, for whoever looks
        await app.StopAsync();
    }
}
