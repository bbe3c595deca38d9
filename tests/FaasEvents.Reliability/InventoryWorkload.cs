using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Samples;

namespace FaasEvents.Reliability;

/// <summary>
/// Sales and restocks for the inventory materializer, a counting fold: its table is exact only if every movement was
/// folded exactly once (a skipped or repeated fold leaves a count wrong), which latest-wins tables cannot show.
/// </summary>
public sealed class InventoryWorkload
{
    public const string Stream = "stock-movements";
    public const string Group = "inventory";

    private readonly List<LogEvent> events;
    private readonly Dictionary<string, StockLevel> model = new(StringComparer.Ordinal);

    public InventoryWorkload(int count, int skus = 200)
    {
        var random = new Random(7);
        events = new List<LogEvent>(count);
        for (int i = 0; i < count; i++)
        {
            string sku = $"sku-{random.Next(skus):D4}";
            bool sale = random.Next(3) > 0;
            int quantity = 1 + random.Next(5);
            var movement = new StockMovement(sale ? "sale" : "restock", quantity);
            events.Add(new LogEvent($"m{i}", "/warehouse", "com.example.stock.moved") { PartitionKey = sku, DataContentType = "application/json", Data = BinaryData.FromObjectAsJson(movement, JsonSerializerOptions.Web) });
            StockLevel now = model.GetValueOrDefault(sku) ?? new StockLevel(0, 0, 0);
            model[sku] = sale ? now with { OnHand = now.OnHand - quantity, Sold = now.Sold + quantity } : now with { OnHand = now.OnHand + quantity, Restocked = now.Restocked + quantity };
        }
    }

    public int Count => events.Count;

    public static Task CreateStreamAsync(EventLogClient log, CancellationToken cancellationToken) =>
        log.CreateStreamAsync(new StreamDefinition { Name = Stream, Partitions = 4, Kind = StreamKind.Entities }, cancellationToken);

    public async Task ProduceAsync(EventLogClient log, CancellationToken cancellationToken)
    {
        await using EventProducerClient producer = log.CreateProducer(Stream);
        foreach (LogEvent[] chunk in events.Chunk(500))
        {
            await producer.SendBatchAsync(chunk, cancellationToken);
        }
    }

    /// <summary>SKUs whose committed stock level differs from the model (a fold skipped or repeated).</summary>
    public async Task<long> WrongCountsAsync(EventLogClient log, CancellationToken cancellationToken)
    {
        var table = new Dictionary<string, StockLevel>(StringComparer.Ordinal);
        await foreach (KeyValuePair<string, BinaryData> kv in log.CreateStateReader(Group, Stream).ScanAllAsync(cancellationToken: cancellationToken))
        {
            table[kv.Key] = kv.Value.ToObjectFromJson<StockLevel>(JsonSerializerOptions.Web)!;
        }

        return model.Count(kv => !table.TryGetValue(kv.Key, out StockLevel? s) || s != kv.Value) + table.Keys.Count(k => !model.ContainsKey(k));
    }
}
