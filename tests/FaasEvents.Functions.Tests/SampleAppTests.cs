using System.Globalization;
using System.Text.Json;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Xunit.Abstractions;

namespace FaasEvents.Functions.Tests;

/// <summary>End to end: the sample app as real processes on Azurite.</summary>
public class SampleAppTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Information", "Microsoft": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 100, "batchCheckpointFrequency": 1, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01",
            "pollInterval": "00:00:00.050", "createStreamsIfMissing": true, "defaultPartitions": 4,
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 2, "delayInterval": "00:00:00.100" } } } }
        """;

    private static string WriteHostJson()
    {
        string path = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, HostJson);
        return path;
    }

    [Fact]
    public async Task Two_instances_share_partitions_and_a_killed_one_loses_no_event()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = 8 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders.audit", Partitions = 8 });
        string hostJson = WriteHostJson();
        PartitionLeaseClient observer = log.CreateLeaseClient("observer");
        async Task<Dictionary<string, int>> OwnersAsync() => (await observer.ListOwnershipAsync("order-audit", "orders")).Where(o => o.IsLeased && o.OwnerId is not null).GroupBy(o => o.OwnerId!).ToDictionary(g => g.Key, g => g.Count());

        await using AppProcess a = AppProcess.Start(azurite.ConnectionString, log.Container.Name, hostJson, "a", "--functions", "order-audit");
        await using AppProcess b = AppProcess.Start(azurite.ConnectionString, log.Container.Name, hostJson, "b", "--functions", "order-audit");
        await AppHarness.WaitUntilAsync(async () => await OwnersAsync() is var o && o.GetValueOrDefault("a") == 4 && o.GetValueOrDefault("b") == 4, "a and b own 4 partitions each", 60);

        const int total = 20_000;
        Task produce = Task.Run(async () =>
        {
            await using EventProducerClient producer = log.CreateProducer("orders");
            for (int i = 0; i < total; i += 500)
            {
                await producer.SendBatchAsync(Enumerable.Range(i, 500).Select(n => Order($"o{n}", $"c{n % 50}", n)));
                await Task.Delay(50);
            }
        });

        await AppHarness.WaitUntilAsync(async () => (await log.GetPartitionsAsync("orders.audit")).Sum(p => p.EndOffset) >= 4000, "some orders were audited");
        var killedAt = DateTime.UtcNow;
        a.KillHard();
        await AppHarness.WaitUntilAsync(async () => (await OwnersAsync()).GetValueOrDefault("b") == 8, "b took over all 8 partitions", 60);
        TimeSpan handover = DateTime.UtcNow - killedAt;
        await produce;

        // Every order audited at least once.
        List<StoredEvent> audit = [];
        await AppHarness.WaitUntilAsync(async () =>
        {
            audit = await TestEvents.ReadAllAsync(log, "orders.audit");
            return audit.Select(Id).Distinct().Count() >= total;
        }, "all 20,000 orders were audited", 120);

        Assert.Equal(0, await b.TerminateAsync(TimeSpan.FromSeconds(30))); // graceful: exit 0
        Assert.Contains("checkpointed and released partitions [0,1,2,3,4,5,6,7]", b.Output, StringComparison.Ordinal);

        int duplicates = audit.Count - total;
        output.WriteLine($"handover after kill -9: {handover.TotalSeconds:0.0} s; audited {audit.Count:N0} for {total:N0} orders: {duplicates} duplicates (redelivered from a's unchecked window)");
        Assert.Equal(total, audit.Select(Id).Distinct().Count()); // lost: 0
        Assert.InRange(duplicates, 0, 8 * 100); // only the unchecked window: at most one batch (100) per partition
        Assert.True(handover < TimeSpan.FromSeconds(30), $"handover took {handover}");

        // Per-key order: each customer's orders were first handled in the order they were produced.
        foreach (IGrouping<string, StoredEvent> byKey in audit.GroupBy(e => e.Event.PartitionKey!))
        {
            List<int> first = byKey.Select(e => int.Parse(Id(e)[1..], CultureInfo.InvariantCulture)).Distinct().ToList();
            Assert.Equal(first.Order(), first);
        }

        Assert.All(await observer.ListOwnershipAsync("order-audit", "orders"), o => Assert.False(o.IsLeased)); // released
        Assert.Equal(0, (await log.GetLagAsync("orders", "order-audit")).TotalLag); // checkpointed to the end
    }

    [Fact]
    public async Task Sample_topologies_one_to_one_n_to_one_one_to_n_pipeline_and_dead_letter()
    {
        EventLogClient log = azurite.CreateClient();
        string hostJson = WriteHostJson();
        int port = DevStorage.AzuriteProcess.GetFreePort();
        await using AppProcess app = AppProcess.Start(azurite.ConnectionString, log.Container.Name, hostJson, "all", "--port", port.ToString(CultureInfo.InvariantCulture));
        await AppHarness.WaitUntilAsync(() => app.Output.Contains("processing orders.enriched partition", StringComparison.Ordinal), "the app started and created its streams", 60);
        await using (AppProcess probe = AppProcess.Start(azurite.ConnectionString, log.Container.Name, hostJson, "probe", "--healthcheck", "--port", port.ToString(CultureInfo.InvariantCulture)))
        {
            await AppHarness.WaitUntilAsync(() => probe.HasExited, "the health probe finished", 30);
            Assert.Equal(0, probe.ExitCode); // the container HEALTHCHECK command sees a healthy instance
        }


        // N:1 — two producers with different sources and types into the stream event-display consumes (1:1 each).
        await using (EventProducerClient ping = log.CreateProducer("ping"))
        {
            await ping.SendAsync(new LogEvent("ping-a-1", "/sources/ping-a", "dev.faasevents.sources.ping") { DataContentType = "application/json", Data = BinaryData.FromString("{\"message\":\"Hello from A\"}") });
            await ping.SendAsync(new LogEvent("ping-b-1", "/sources/heartbeat-b", "com.example.heartbeat") { DataContentType = "text/plain", Data = BinaryData.FromString("beat") });
        }

        // 1:N and the pipeline: orders to audit, billing and enrich; enrich feeds shipping. One poison order.
        await using (EventProducerClient orders = log.CreateProducer("orders"))
        {
            await orders.SendBatchAsync([Order("ok-1", "eu-anna", 100), Order("ok-2", "bob", 50), Order("poison-1", "bob", -5)]);
        }

        await AppHarness.WaitUntilAsync(() => app.Output.Contains("id: ping-a-1", StringComparison.Ordinal) && app.Output.Contains("id: ping-b-1", StringComparison.Ordinal), "event-display showed both pings", 60);
        Assert.Contains("source: /sources/heartbeat-b", app.Output, StringComparison.Ordinal);
        Assert.Contains("\"message\": \"Hello from A\"", app.Output, StringComparison.Ordinal);

        await AppHarness.WaitUntilAsync(async () => (await TestEvents.ReadAllAsync(log, "orders.audit")).Count == 3, "order-audit saw all 3 orders", 60);
        List<StoredEvent> enriched = [];
        await AppHarness.WaitUntilAsync(async () => (enriched = await TestEvents.ReadAllAsync(log, "orders.enriched")).Count == 3, "order-enrich emitted 3", 60);
        JsonElement anna = JsonDocument.Parse(enriched.Single(e => e.Event.PartitionKey == "eu-anna").Event.Data!.ToString()).RootElement;
        Assert.Equal(120m, anna.GetProperty("total").GetDecimal()); // DI service applied 20% tax
        await AppHarness.WaitUntilAsync(() => app.Output.Contains("Shipping ", StringComparison.Ordinal), "shipping consumed the enriched orders", 60);

        List<StoredEvent> letters = [];
        await AppHarness.WaitUntilAsync(async () => await log.TryGetStreamAsync("orders.order-billing.deadletter") is not null && (letters = await TestEvents.ReadAllAsync(log, "orders.order-billing.deadletter")).Count == 1, "the poison order was dead-lettered", 60);
        Assert.Equal(4, letters[0].Event.Extensions["dlqattempts"]); // [ExponentialBackoffRetry(3, ...)] on the function: 1 + 3 tries
        Assert.Contains("negative amount", (string)letters[0].Event.Extensions["dlqerror"], StringComparison.Ordinal);
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("orders", "order-billing")).TotalLag == 0, "billing moved past the poison", 30);

        Assert.Equal(0, await app.TerminateAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task List_prints_the_functions_as_json_without_storage()
    {
        await using AppProcess app = AppProcess.Start("DefaultEndpointsProtocol=http;AccountName=x;AccountKey=eA==;BlobEndpoint=http://127.0.0.1:1/x;", "faas", WriteHostJson(), "list", "--list");
        await AppHarness.WaitUntilAsync(() => app.HasExited, "--list exited", 30);
        Assert.Equal(0, app.ExitCode);
        string json = app.Output[app.Output.IndexOf('[', StringComparison.Ordinal)..];
        JsonElement[] fns = JsonDocument.Parse(json).RootElement.EnumerateArray().ToArray();
        Assert.Equal(10, fns.Length);
        JsonElement audit = fns.Single(f => f.GetProperty("name").GetString() == "order-audit");
        Assert.Equal(("orders", "order-audit", "event", "stream"), (audit.GetProperty("stream").GetString(), audit.GetProperty("consumerGroup").GetString(), audit.GetProperty("kind").GetString(), audit.GetProperty("consumption").GetString()));
        JsonElement emails = fns.Single(f => f.GetProperty("name").GetString() == "email-sender");
        Assert.Equal(("emails", "queue", "queue"), (emails.GetProperty("stream").GetString(), emails.GetProperty("kind").GetString(), emails.GetProperty("consumption").GetString()));
    }

    [Fact]
    public async Task Bad_host_json_stops_start_up_naming_the_key()
    {
        string path = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """{ "version": "2.0", "extensions": { "eventLog": { "maxBatchSize": -3 } } }""");
        await using AppProcess app = AppProcess.Start(azurite.ConnectionString, "faas", path, "bad");
        await AppHarness.WaitUntilAsync(() => app.HasExited, "the app exited", 30);
        Assert.Equal(1, app.ExitCode);
        Assert.Contains("error: ", app.Output, StringComparison.Ordinal);
        Assert.Contains("extensions.eventLog.maxBatchSize: must be an integer between 1 and 10000 (was -3)", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_taken_http_port_is_one_error_line_naming_the_fix_and_exit_1()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        holder.Start();
        int port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        await using AppProcess app = AppProcess.Start(azurite.ConnectionString, "faas", WriteHostJson(), "porty", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await AppHarness.WaitUntilAsync(() => app.HasExited, "the app exited", 60);

        Assert.Equal(1, app.ExitCode);
        Assert.True(app.Output.Contains($"error: HTTP port {port} is already in use", StringComparison.Ordinal), "the app's output:\n" + app.Output);
        Assert.Contains("--port", app.Output[app.Output.IndexOf("error:", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", app.Output, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task Unreachable_storage_is_one_error_line_naming_the_setting_and_exit_1()
    {
        string nowhere = $"DefaultEndpointsProtocol=http;AccountName={AzuriteProcess.AccountName};AccountKey={AzuriteProcess.AccountKey};BlobEndpoint=http://127.0.0.1:9/{AzuriteProcess.AccountName};";

        await using AppProcess app = AppProcess.Start(nowhere, "faas", WriteHostJson(), "nowhere");
        await AppHarness.WaitUntilAsync(() => app.HasExited, "the app exited", 120);

        Assert.Equal(1, app.ExitCode);
        Assert.Contains("error: storage did not answer", app.Output, StringComparison.Ordinal);
        Assert.Contains("FAAS_STORAGE", app.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", app.Output, StringComparison.Ordinal);
    }

    private static string Id(StoredEvent audit) => JsonDocument.Parse(audit.Event.Data!.ToString()).RootElement.GetProperty("orderId").GetString()!;

    private static LogEvent Order(string id, string customer, decimal amount) => new(id, "/shop", "com.example.order.created")
    {
        PartitionKey = customer,
        DataContentType = "application/json",
        Data = BinaryData.FromObjectAsJson(new { orderId = id, customer, amount }),
    };
}
