using System.Collections.Concurrent;
using FaasEvents.Log.Events;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>deadLetter.mode = stop halts the partition at the poison event and says so in /healthz and the metrics: a whole app on the in-memory store (moved from the Azurite RuntimeTests).</summary>
public sealed class StopPolicyTests : IAsyncLifetime
{
    private readonly InMemoryRuntime runtime = new();

    public sealed record Item(string Id, int N);

    public static class HaltFunctions
    {
        public static ConcurrentQueue<string> Calls { get; } = new();

        [Function("rt-halt")]
        [FixedDelayRetry(1, "00:00:00")]
        public static void Run([EventTrigger("rt-h")] Item item)
        {
            Calls.Enqueue(item.Id);
            if (item.N < 0)
            {
                throw new InvalidOperationException("poison");
            }
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await runtime.DisposeAsync();

    [Fact]
    public async Task Stop_policy_halts_the_partition_at_the_poison_event()
    {
        runtime.Log.CreateStream("rt-h", 1);
        runtime.Log.Append("rt-h", [Json("h1", 1), Json("h-bad", -1), Json("h2", 2)]);

        string stopJson = AppHarness.FastHostJson.Replace("\"retry\"", "\"deadLetter\": { \"mode\": \"stop\" }, \"retry\"", StringComparison.Ordinal);
        await using FunctionsApp app = AppHarness.BuildInMemory(runtime, typeof(HaltFunctions), stopJson);
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(() => HaltFunctions.Calls.Count(c => c == "h-bad") == 2, "two tries of the poison");
        using var http = new HttpClient();
        await AppHarness.WaitUntilAsync(async () => (await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"))).StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, "health reports the halted partition");
        string health = await (await http.GetAsync(new Uri($"http://127.0.0.1:{app.Port}/healthz"))).Content.ReadAsStringAsync();
        Assert.Contains("\"haltedPartitions\":[0]", health, StringComparison.Ordinal);
        Assert.Contains("failed 2 tries (deadLetter.mode = stop)", health, StringComparison.Ordinal); // the reason, in /healthz haltReasons
        string metrics = "";
        (string, string) fn = ("faas_name", "rt-halt");
        await AppHarness.WaitUntilAsync(async () => PrometheusText.Value(metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{app.Port}/metrics")), "faas_function_partition_lag", fn) is not null, "lag is reported", 30);
        Assert.Equal(2, PrometheusText.Value(metrics, "faas_function_invocation_failures_total", fn, ("messaging_destination_partition_id", "0")));
        Assert.Equal(1, PrometheusText.Value(metrics, "faas_function_retries_total", fn));
        Assert.NotNull(PrometheusText.Value(metrics, "faas_function_events_handled_total", fn));
        Assert.Equal(1, PrometheusText.Value(metrics, "faas_function_owned_partitions", fn, ("messaging_consumer_group_name", "rt-halt"), ("messaging_destination_name", "rt-h")));
        Assert.Equal(2, PrometheusText.Value(metrics, "messaging_process_duration_seconds_count", fn, ("error_type", "System.InvalidOperationException")));
        await app.StopAsync();

        Assert.DoesNotContain(HaltFunctions.Calls, c => c == "h2"); // nothing passed the poison
        Assert.Equal(1, runtime.Checkpoint("rt-halt", "rt-h", 0)); // checkpoint at the poison: it is redelivered after a fix
        Assert.Null(runtime.Log.TryGetStream("rt-h.rt-halt.deadletter"));
    }

    private static LogEvent Json(string id, int n) => new(id, "/tests", "item")
    {
        DataContentType = "application/json",
        Data = BinaryData.FromString($"{{\"id\":\"{id}\",\"n\":{n}}}"),
    };
}
