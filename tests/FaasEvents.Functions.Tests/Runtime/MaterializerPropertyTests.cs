using System.Globalization;
using FaasEvents.Log;
using FaasEvents.Log.Compaction;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FsCheck;
using FsCheck.Fluent;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>The materializer runtime against an in-memory model, for random upsert/tombstone sequences over many keys and partitions.</summary>
public class MaterializerPropertyTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": { "maxBatchSize": 7, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01",
            "pollInterval": "00:00:00.020", "stateCommitInterval": "00:00:00.100" } } }
        """;

    public static class Latest
    {
        [Function("prop-table")]
        public static string? Apply([MaterializerTrigger("prop-entities")] string? value) => value;
    }

    public static class Replay
    {
        [Function("prop-replay")]
        public static string? Apply([MaterializerTrigger("prop-entities")] string? value) => value;
    }

    private static async Task<Dictionary<string, string>> TableAsync(EventLogClient log, string group, string? prefix)
    {
        var table = new Dictionary<string, string>();
        await foreach ((string key, BinaryData value) in log.CreateStateReader(group, "prop-entities").ScanAllAsync(prefix, pageSize: 500))
        {
            table[key] = value.ToObjectFromJson<string>()!;
        }

        return table;
    }

    [Fact]
    public async Task The_materialized_table_equals_the_model_and_so_does_a_replay_of_the_compacted_stream()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "prop-entities", Partitions = 3, Kind = StreamKind.Entities, SegmentMaxBlocks = 4 });
        var all = new Dictionary<string, string>();
        int run = 0;
        var failures = new List<string>();
        Gen<(int Key, int? Value)> op = Gen.Choose(0, 15).SelectMany(k => Gen.Choose(-4, 50).Select(v => (k, v < 0 ? (int?)null : v)));
        Arbitrary<((int Key, int? Value)[] Ops, int Chunk)> arb = Gen.Choose(1, 60).SelectMany(n => Gen.ArrayOf(op, n)).SelectMany(ops => Gen.Choose(1, 10).Select(c => (ops, c))).ToArbitrary();

        await using (FunctionsApp app = AppHarness.Build(azurite, log, typeof(Latest), HostJson))
        {
            await app.StartAsync();
            await using EventProducerClient producer = log.CreateProducer("prop-entities");
            Prop.ForAll(arb, input =>
            {
                string prefix = $"c{run++:D3}-";
                var model = new Dictionary<string, string>();
                try
                {
                    var events = input.Ops.Select((o, i) =>
                    {
                        string key = prefix + o.Key.ToString(CultureInfo.InvariantCulture);
                        string? value = o.Value?.ToString(CultureInfo.InvariantCulture);
                        if (value is null)
                        {
                            model.Remove(key);
                        }
                        else
                        {
                            model[key] = value;
                        }

                        return new LogEvent($"{prefix}{i}", "/prop", value is null ? "deleted" : "upserted") { PartitionKey = key, Data = value is null ? null : BinaryData.FromString(value) };
                    }).ToList();
                    foreach (LogEvent[] chunk in events.Chunk(input.Chunk))
                    {
                        producer.SendBatchAsync(chunk).GetAwaiter().GetResult();
                    }

                    foreach ((string k, string v) in model)
                    {
                        all[k] = v;
                    }

                    AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("prop-entities", "prop-table")).TotalLag == 0, "the table is committed", 60).GetAwaiter().GetResult();
                    Dictionary<string, string> table = TableAsync(log, "prop-table", prefix).GetAwaiter().GetResult();
                    if (!table.OrderBy(kv => kv.Key, StringComparer.Ordinal).SequenceEqual(model.OrderBy(kv => kv.Key, StringComparer.Ordinal)))
                    {
                        failures.Add($"{prefix}: table [{string.Join(",", table.Select(kv => $"{kv.Key}={kv.Value}"))}] model [{string.Join(",", model.Select(kv => $"{kv.Key}={kv.Value}"))}]");
                        return false;
                    }

                    return true;
                }
                catch (Exception ex)
                {
                    failures.Add($"{prefix}: {ex.Message}");
                    return false;
                }
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(25));
            await app.StopAsync();
        }

        Assert.Empty(failures);
        Assert.Equal(all.OrderBy(kv => kv.Key, StringComparer.Ordinal), (await TableAsync(log, "prop-table", null)).OrderBy(kv => kv.Key, StringComparer.Ordinal));

        // Compact (tombstones dropped at once), then replay from earliest into a new materializer: the same table.
        IReadOnlyList<PartitionCompaction> compacted = await log.CompactAsync("prop-entities", new CompactionOptions { DeleteRetention = TimeSpan.Zero });
        Assert.True(compacted.Sum(c => c.EventsKept) < compacted.Sum(c => c.EventsRead));
        await using (FunctionsApp replay = AppHarness.Build(azurite, log, typeof(Replay), HostJson))
        {
            await replay.StartAsync();
            await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("prop-entities", "prop-replay")).TotalLag == 0, "the replay is committed");
            await replay.StopAsync();
        }

        Assert.Equal(all.OrderBy(kv => kv.Key, StringComparer.Ordinal), (await TableAsync(log, "prop-replay", null)).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }
}
