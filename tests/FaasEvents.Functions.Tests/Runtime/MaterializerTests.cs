using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Compaction;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FaasEvents.Functions.Tests.Runtime;

public class MaterializerTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 50, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050",
            "stateCommitInterval": "00:00:00.300",
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 1, "delayInterval": "00:00:00.010" } } } }
        """;

    public sealed record Movement(string Kind, int Quantity);

    public sealed record Level(int OnHand, int Moves);

    public sealed record Alert(string Sku, int OnHand);

    public sealed record Title(string Name);

    public static class StockTable
    {
        [Function("mt-stock")]
        [EventOutput("mt-alerts")]
        public static Level? Stock([MaterializerTrigger("mt-moves")] Movement? m, [CurrentState] Level? current, [EntityKey] string sku, FunctionContext context)
        {
            if (m is null)
            {
                return null;
            }

            Level now = current ?? new Level(0, 0);
            Level next = new(now.OnHand + (m.Kind == "sale" ? -m.Quantity : m.Quantity), now.Moves + 1);
            if (now.OnHand >= 0 && next.OnHand < 0)
            {
                context.AddOutput(new Alert(sku, next.OnHand));
            }

            return next;
        }
    }

    public static class BookTable
    {
        [Function("mt-books")]
        public static Title? Books([MaterializerTrigger("mt-titles", Changelog = true)] Title? t) => t;
    }

    public static class BookReplay
    {
        [Function("mt-books-replay")]
        public static Title? Books([MaterializerTrigger("mt-titles")] Title? t) => t;
    }

    [Fact]
    public async Task A_fold_is_committed_with_its_offset_queryable_in_memory_and_from_storage_and_unkeyed_events_are_dead_lettered()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "mt-moves", Partitions = 4, Kind = StreamKind.Entities });
        await log.CreateStreamAsync(new StreamDefinition { Name = "mt-alerts", Partitions = 1 });
        var model = new Dictionary<string, Level>();
        var events = new List<LogEvent>();
        var random = new Random(7);
        for (int i = 0; i < 3000; i++)
        {
            string sku = $"sku-{random.Next(60):D3}";
            if (random.Next(40) == 0)
            {
                events.Add(new LogEvent($"e{i}", "/t", "stock.discontinued") { PartitionKey = sku }); // tombstone
                model.Remove(sku);
                continue;
            }

            var m = new Movement(random.Next(2) == 0 ? "sale" : "restock", random.Next(1, 20));
            events.Add(Entity($"e{i}", sku, m));
            Level now = model.GetValueOrDefault(sku) ?? new Level(0, 0);
            model[sku] = new Level(now.OnHand + (m.Kind == "sale" ? -m.Quantity : m.Quantity), now.Moves + 1);
        }

        events.Insert(1500, new LogEvent("unkeyed", "/t", "stock.moved") { Data = BinaryData.FromString("""{"kind":"sale","quantity":1}"""), DataContentType = "application/json" });
        await using (EventProducerClient p = log.CreateProducer("mt-moves"))
        {
            foreach (LogEvent[] chunk in events.Chunk(200))
            {
                await p.SendBatchAsync(chunk);
            }
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(StockTable), HostJson);
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("mt-moves", "mt-stock")).TotalLag == 0, "the table and offsets are committed to the end", 90);

        // In memory, while the app owns the partitions.
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };
        string someSku = model.Keys.Order(StringComparer.Ordinal).First();
        HttpResponseMessage hit = await http.GetAsync($"/materializers/mt-stock/keys/{someSku}");
        Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
        Assert.Equal("memory", hit.Headers.GetValues("X-Faas-Source").Single());
        Assert.Equal(model[someSku], await hit.Content.ReadFromJsonAsync<Level>(JsonSerializerOptions.Web));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/materializers/mt-stock/keys/no-such-sku")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/materializers/nope/keys/x")).StatusCode);
        var page = await http.GetFromJsonAsync<JsonElement>("/materializers/mt-stock/keys?prefix=sku-00&limit=5");
        string[] pageKeys = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()!).ToArray();
        Assert.Equal(model.Keys.Where(k => k.StartsWith("sku-00", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Take(5), pageKeys);
        await app.StopAsync();

        // From storage, with no instance running: exactly the model (no lost, no double-applied update).
        var persisted = new Dictionary<string, Level>();
        await foreach ((string k, BinaryData v) in log.CreateStateReader("mt-stock", "mt-moves").ScanAllAsync(pageSize: 7)) // pages of 7
        {
            persisted.Add(k, v.ToObjectFromJson<Level>(JsonSerializerOptions.Web)!);
        }

        Assert.Equal(model.OrderBy(kv => kv.Key, StringComparer.Ordinal), persisted.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        List<StoredEvent> dead = await TestEvents.ReadAllAsync(log, "mt-moves.mt-stock.deadletter");
        StoredEvent letter = Assert.Single(dead);
        Assert.Equal("unkeyed", letter.Event.Id);
        Assert.Contains("no partition key", (string)letter.Event.Extensions["dlqerror"], StringComparison.Ordinal);
        Assert.Equal(1, letter.Event.Extensions["dlqattempts"]); // not retried: retrying cannot add a key
        List<StoredEvent> alerts = await TestEvents.ReadAllAsync(log, "mt-alerts");
        Assert.NotEmpty(alerts);
        Assert.All(alerts, a => Assert.True(a.Event.Data!.ToObjectFromJson<Alert>(JsonSerializerOptions.Web)!.OnHand < 0));
        output.WriteLine($"{model.Count} keys; {alerts.Count} alerts; restored from {(await log.CreateStateStore("mt-stock", "mt-moves", 0).RestoreAsync()).ChainLength} blob(s) on partition 0");
    }

    [Fact]
    public async Task A_restarted_instance_resumes_from_the_committed_table_and_the_changelog_rebuilds_it()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "mt-titles", Partitions = 2, Kind = StreamKind.Entities, SegmentMaxBlocks = 5 });
        var model = new Dictionary<string, string>();
        async Task ProduceAsync(int from, int to)
        {
            await using EventProducerClient p = log.CreateProducer("mt-titles");
            for (int i = from; i < to; i++)
            {
                string isbn = $"978-{i % 40:D4}";
                if (i % 9 == 8)
                {
                    await p.SendAsync(new LogEvent($"t{i}", "/t", "book.deleted") { PartitionKey = isbn });
                    model.Remove(isbn);
                }
                else
                {
                    await p.SendAsync(Entity($"t{i}", isbn, new Title($"title {i}")));
                    model[isbn] = $"title {i}";
                }
            }
        }

        await ProduceAsync(0, 200);
        await using (FunctionsApp first = AppHarness.Build(azurite, log, typeof(BookTable), HostJson))
        {
            await first.StartAsync();
            await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("mt-titles", "mt-books")).TotalLag == 0, "first instance committed");
            await first.StopAsync();
        }

        await ProduceAsync(200, 300);
        await using (FunctionsApp second = AppHarness.Build(azurite, log, typeof(BookTable), HostJson))
        {
            await second.StartAsync();
            await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("mt-titles", "mt-books")).TotalLag == 0, "second instance committed");
            await second.StopAsync();
        }

        StatePage all = await log.CreateStateReader("mt-books", "mt-titles").ScanAsync(limit: 1000);
        Assert.Equal(model.OrderBy(kv => kv.Key, StringComparer.Ordinal), all.Items.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.ToObjectFromJson<Title>(JsonSerializerOptions.Web)!.Name)));

        // Table -> stream -> table: folding the changelog (latest per key, no data = deleted) gives the same table.
        var replica = new Dictionary<string, string>();
        foreach (StoredEvent e in await TestEvents.ReadAllAsync(log, "mt-books.changelog"))
        {
            if (e.Event.Data is null)
            {
                replica.Remove(e.Event.PartitionKey!);
            }
            else
            {
                replica[e.Event.PartitionKey!] = e.Event.Data.ToObjectFromJson<Title>(JsonSerializerOptions.Web)!.Name;
            }
        }

        Assert.Equal(model.OrderBy(kv => kv.Key, StringComparer.Ordinal), replica.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(StreamKind.Entities, (await log.GetStreamAsync("mt-books.changelog")).Kind);

        // Compact the entity stream, then replay it from earliest into a new materializer: the same table.
        IReadOnlyList<PartitionCompaction> compacted = await log.CompactAsync("mt-titles", new CompactionOptions { DeleteRetention = TimeSpan.Zero });
        Assert.True(compacted.Sum(c => c.EventsKept) < compacted.Sum(c => c.EventsRead));
        await using (FunctionsApp replay = AppHarness.Build(azurite, log, typeof(BookReplay), HostJson))
        {
            await replay.StartAsync();
            await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("mt-titles", "mt-books-replay")).TotalLag == 0, "the replay committed to the end");
            await replay.StopAsync();
        }

        StatePage replayed = await log.CreateStateReader("mt-books-replay", "mt-titles").ScanAsync(limit: 1000);
        Assert.Equal(model.OrderBy(kv => kv.Key, StringComparer.Ordinal), replayed.Items.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.ToObjectFromJson<Title>(JsonSerializerOptions.Web)!.Name)));
    }

    /// <summary>A pluggable serializer: "title|" + the title, not JSON.</summary>
    public sealed class PipeSerializer : IStateSerializer
    {
        public BinaryData Serialize(object value, Type type) => BinaryData.FromString("title|" + ((Title)value).Name);

        public object? Deserialize(BinaryData data, Type type) => new Title(data.ToString()["title|".Length..]);
    }

    public static class PipeTable
    {
        [Function("mt-pipe")]
        public static Title? Books([MaterializerTrigger("mt-pipe-in")] Title? t, [CurrentState] Title? current) => t is null ? null : new Title(current is null ? t.Name : current.Name + "+" + t.Name);
    }

    [Fact]
    public async Task A_registered_state_serializer_replaces_json_for_commits_restores_and_queries()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "mt-pipe-in", Partitions = 1, Kind = StreamKind.Entities });
        await using (EventProducerClient p = log.CreateProducer("mt-pipe-in"))
        {
            await p.SendBatchAsync([Entity("a1", "k", new Title("a")), Entity("b1", "k", new Title("b"))]);
        }

        for (int run = 0; run < 2; run++)
        {
            // The second instance restores the table through the serializer and folds on top of it.
            await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(PipeTable), HostJson, b => b.Services.AddSingleton<IStateSerializer, PipeSerializer>());
            await app.StartAsync();
            await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("mt-pipe-in", "mt-pipe")).TotalLag == 0, "committed");
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };
            HttpResponseMessage response = await http.GetAsync("/materializers/mt-pipe/keys/k");
            Assert.Equal(run == 0 ? "title|a+b" : "title|a+b+c", await response.Content.ReadAsStringAsync());
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.MediaType); // not JSON: not labelled JSON
            await app.StopAsync();
            if (run == 0)
            {
                await using EventProducerClient p = log.CreateProducer("mt-pipe-in");
                await p.SendAsync(Entity("c1", "k", new Title("c")));
            }
        }

        Assert.Equal("title|a+b+c", (await log.CreateStateReader("mt-pipe", "mt-pipe-in").GetAsync("k")).Value!.ToString());
    }

    internal static LogEvent Entity<T>(string id, string key, T value) => new(id, "/t", "entity.upserted")
    {
        PartitionKey = key,
        DataContentType = "application/json",
        Data = BinaryData.FromObjectAsJson(value, JsonSerializerOptions.Web),
    };
}
