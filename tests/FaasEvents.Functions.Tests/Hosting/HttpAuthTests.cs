using System.Net;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Hosting;

/// <summary>
/// A function app's HTTP endpoints with <c>FAAS_API_KEYS</c> set: state queries (which can hold customer data), the
/// function list and metrics refuse a caller without a key; health stays open for probes.
/// </summary>
public sealed class HttpAuthTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    public static class Customers
    {
        [Function("auth-customers")]
        public static string? Apply([MaterializerTrigger("auth-entities")] string? value) => value;
    }

    [Fact]
    public async Task State_queries_the_function_list_and_metrics_refuse_a_caller_without_the_key_and_health_stays_open()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "auth-entities", Partitions = 1, Kind = StreamKind.Entities });
        await using (EventProducerClient producer = log.CreateProducer("auth-entities"))
        {
            await producer.SendAsync(new LogEvent("c1", "/tests", "customer") { PartitionKey = "customer-1", DataContentType = "text/plain", Data = BinaryData.FromString("Jane Doe, 1 Main St") });
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Customers), configure: b => b.Configuration["FAAS_API_KEYS"] = "app-key-1, app-key-2");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };
        await AppHarness.WaitUntilAsync(async () => (await SendAsync(http, "/materializers/auth-customers/keys/customer-1", "app-key-2")).StatusCode == HttpStatusCode.OK, "the customer folded and readable with a key");

        foreach (string path in new[] { "/materializers/auth-customers/keys/customer-1", "/materializers/auth-customers/keys", "/materializers", "/functions", "/metrics" })
        {
            HttpResponseMessage anonymous = await SendAsync(http, path, key: null);
            string body = await anonymous.Content.ReadAsStringAsync();
            Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"GET {path} without a key answered {(int)anonymous.StatusCode}: {body}");
            Assert.DoesNotContain("Jane", body, StringComparison.Ordinal);
            Assert.Contains("x-api-key", body, StringComparison.Ordinal); // the refusal says what to send

            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, path, "wrong-key")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, path, "app-key-1")).StatusCode);
            using var bearer = new HttpRequestMessage(HttpMethod.Get, path);
            bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "app-key-2");
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(bearer)).StatusCode);
        }

        Assert.Contains("Jane Doe", await (await SendAsync(http, "/materializers/auth-customers/keys/customer-1", "app-key-1")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await SendAsync(http, "/healthz", key: null)).StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task Without_keys_or_an_issuer_the_endpoints_stay_open_for_local_development()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "auth-entities", Partitions = 1, Kind = StreamKind.Entities });
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Customers));
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, "/functions", key: null)).StatusCode);
        await app.StopAsync();
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }

        HttpResponseMessage response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
