using System.Diagnostics;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using FaasEvents.Samples;
using FaasEvents.TestSupport;
using Xunit.Abstractions;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>The inventory sample as real processes, killed with -9 again and again while it materializes 100,000 events.</summary>
public class MaterializerCrashTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 100, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01",
            "pollInterval": "00:00:00.050", "stateCommitInterval": "00:00:01", "createStreamsIfMissing": true,
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 2, "delayInterval": "00:00:00.100" } } } }
        """;

    [Fact]
    public async Task Inventory_counts_are_exact_after_repeated_kill_9_of_instances_mid_stream()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "stock-movements", Partitions = 4 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "inventory.reorders", Partitions = 1 });
        string hostJson = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(hostJson, HostJson);

        // The model: the same fold, in memory.
        const int total = 100_000;
        var random = new Random(2026);
        var events = new List<LogEvent>(total);
        var model = new Dictionary<string, StockLevel>();
        var reorders = new HashSet<(string, int)>();
        for (int i = 0; i < total; i++)
        {
            string sku = $"sku-{random.Next(500):D4}";
            if (random.Next(200) == 0)
            {
                events.Add(new LogEvent($"m{i}", "/pos", "com.example.sku.discontinued") { PartitionKey = sku });
                model.Remove(sku);
                continue;
            }

            var movement = new StockMovement(random.Next(3) == 0 ? "restock" : "sale", random.Next(1, 8));
            events.Add(MaterializerTests.Entity($"m{i}", sku, movement));
            StockLevel now = model.GetValueOrDefault(sku) ?? new StockLevel(0, 0, 0);
            StockLevel next = movement.Kind == "sale"
                ? now with { OnHand = now.OnHand - movement.Quantity, Sold = now.Sold + movement.Quantity }
                : now with { OnHand = now.OnHand + movement.Quantity, Restocked = now.Restocked + movement.Quantity };
            if (now.OnHand >= MaterializerFunctions.ReorderThreshold && next.OnHand < MaterializerFunctions.ReorderThreshold)
            {
                reorders.Add((sku, next.OnHand));
            }

            model[sku] = next;
        }

        var instances = new List<AppProcess>();
        int started = 0;
        AppProcess Start() => AppProcess.Start(azurite.ConnectionString, log.Container.Name, hostJson, $"inv-{started++}", "--functions", "inventory");
        try
        {
            instances.Add(Start());
            instances.Add(Start());
            var clock = Stopwatch.StartNew();
            Task produce = Task.Run(async () =>
            {
                await using EventProducerClient producer = log.CreateProducer("stock-movements");
                foreach (LogEvent[] chunk in events.Chunk(1000))
                {
                    await producer.SendBatchAsync(chunk);
                    await Task.Delay(150);
                }
            });

            // Kill -9 an instance every few seconds while events arrive; a fresh one replaces it.
            int kills = 0;
            while (!produce.IsCompleted || kills < 3)
            {
                await Task.Delay(TimeSpan.FromSeconds(4));
                AppProcess victim = instances[random.Next(instances.Count)];
                victim.KillHard();
                await victim.DisposeAsync();
                instances.Remove(victim);
                instances.Add(Start());
                kills++;
            }

            await produce;
            await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("stock-movements", "inventory")).TotalLag == 0, "the table is committed to the end of every partition", 180);
            TimeSpan elapsed = clock.Elapsed;
            foreach (AppProcess survivor in instances)
            {
                Assert.Equal(0, await survivor.TerminateAsync(TimeSpan.FromSeconds(30)));
            }

            // The committed table is exactly the model: no lost and no double-applied movement.
            StatePage table = await log.CreateStateReader("inventory", "stock-movements").ScanAsync(limit: 10_000);
            Dictionary<string, StockLevel> actual = table.Items.ToDictionary(kv => kv.Key, kv => kv.Value.ToObjectFromJson<StockLevel>(JsonSerializerOptions.Web)!);
            Assert.Null(table.Next);
            Assert.Equal(model.Count, actual.Count);
            foreach ((string sku, StockLevel level) in model)
            {
                Assert.Equal(level, actual[sku]);
            }

            // Reorders are outputs: at-least-once. Every one the model emits is there; extras are only redeliveries.
            List<StoredEvent> emitted = await TestEvents.ReadAllAsync(log, "inventory.reorders");
            var emittedSet = emitted.Select(e => e.Event.Data!.ToObjectFromJson<Reorder>(JsonSerializerOptions.Web)!).Select(r => (r.Sku, r.OnHand)).ToHashSet();
            Assert.True(emittedSet.SetEquals(reorders), $"reorders differ: missing {reorders.Except(emittedSet).Count()}, unexpected {emittedSet.Except(reorders).Count()}");
            output.WriteLine($"{total:N0} events, {kills} kill -9, {started} instances started: table of {actual.Count} SKUs equals the model; {reorders.Count} reorders expected, {emitted.Count} emitted ({emitted.Count - reorders.Count} redelivered); drained in {elapsed.TotalSeconds:0} s");
        }
        finally
        {
            foreach (AppProcess p in instances)
            {
                await p.DisposeAsync();
            }
        }
    }
}
