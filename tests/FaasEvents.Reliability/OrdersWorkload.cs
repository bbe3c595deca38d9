using System.Collections.Concurrent;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Samples;

namespace FaasEvents.Reliability;

/// <summary>
/// Orders for the sample's <c>order-audit</c> function (orders -> orders.audit, one audit per order), produced in
/// chunks; then the check: every acknowledged order audited (lost), audits per order (duplicated), and per customer
/// the first audit of each order in input order (out of order).
/// </summary>
public sealed class OrdersWorkload(int count, int customers = 64, Guid? producerId = null)
{
    public const string Stream = "orders";
    public const string Output = "orders.audit";
    public const string Group = "order-audit";
    private readonly ConcurrentDictionary<string, byte> acknowledged = new(StringComparer.Ordinal);

    /// <summary>Orders whose send was acknowledged.</summary>
    public int Acknowledged => acknowledged.Count;

    /// <summary>The orders acknowledged so far (what the model of every downstream check is built from).</summary>
    public IEnumerable<Order> AcknowledgedOrders() => acknowledged.Keys.Select(id => OrderOf(int.Parse(id[2..], System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Sends that failed (not acknowledged; maybe stored, maybe not) and were sent again.</summary>
    public int Resent { get; private set; }

    public static async Task CreateStreamsAsync(EventLogClient log, int partitions = 4)
    {
        await log.CreateStreamAsync(new StreamDefinition { Name = Stream, Partitions = partitions });
        await log.CreateStreamAsync(new StreamDefinition { Name = Output, Partitions = partitions });
    }

    /// <summary>Produces every order in chunks with a pause between them; a failed chunk is sent again, as a user would.</summary>
    public async Task ProduceAsync(EventLogClient log, TimeSpan pause, CancellationToken cancellationToken)
    {
        await using EventProducerClient producer = log.CreateProducer(Stream);
        foreach (int[] chunk in Enumerable.Range(0, count).Chunk(500))
        {
            LogEvent[] events = chunk.Select(Order).ToArray();
            Resent += await ChunkSender.SendUntilAcknowledgedAsync(
                () => producerId is { } writer
                    ? producer.SendSequencedAsync(events, [.. chunk.Select(i => new WriterMark(writer, i))], cancellationToken) // a re-sent chunk is skipped by readers
                    : producer.SendBatchAsync(events, cancellationToken),
                cancellationToken);

            foreach (LogEvent e in events)
            {
                acknowledged[e.Id] = 0;
            }

            await Task.Delay(pause, cancellationToken);
        }
    }

    /// <summary>Compares the audits with the acknowledged orders.</summary>
    public async Task<(long Lost, long Duplicated, long OutOfOrder, long ReusedOffsets, long DeadLettered)> CheckAsync(EventLogClient log, CancellationToken cancellationToken)
    {
        List<StoredEvent> orders = await LogAudit.ReadAllAsync(log, Stream, cancellationToken);
        List<StoredEvent> audits = await LogAudit.ReadAllAsync(log, Output, cancellationToken);
        HashSet<string> dead = await log.TryGetStreamAsync($"{Stream}.{Group}.deadletter", cancellationToken) is null
            ? []
            : (await LogAudit.ReadAllAsync(log, $"{Stream}.{Group}.deadletter", cancellationToken)).Select(e => e.Event.Id).ToHashSet(StringComparer.Ordinal);
        var records = audits.Select(a => (a.Event.PartitionKey, Record: a.Event.Data!.ToObjectFromJson<AuditRecord>(JsonSerializerOptions.Web)!)).ToList();
        var audited = records.GroupBy(r => r.Record.OrderId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        long lost = acknowledged.Keys.Count(id => !audited.ContainsKey(id) && !dead.Contains(id));
        long duplicated = audited.Values.Sum(n => n - 1L);
        long outOfOrder = 0;
        foreach (var byCustomer in records.GroupBy(r => r.PartitionKey))
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            long highest = -1;
            foreach (var (_, record) in byCustomer)
            {
                if (seen.Add(record.OrderId))
                {
                    outOfOrder += record.Offset < highest ? 1 : 0;
                    highest = Math.Max(highest, record.Offset);
                }
            }
        }

        return (lost, duplicated, outOfOrder, LogAudit.ReusedOrMissingOffsets(orders), dead.Count);
    }

    /// <summary>
    /// Audits beyond the first for the same input event (same input partition and offset), split by cause: a handler
    /// re-run writes a new record (another audit time), an output append written twice repeats the same record.
    /// Unlike <c>Duplicated</c> neither counts an order the producer re-sent after an unclear failure (a new input event).
    /// Counted on what is stored (copies included): consumers get each sequenced write once, but a re-run still happened.
    /// </summary>
    public static async Task<(long HandlerReruns, long OutputsWrittenTwice)> RepeatsAsync(EventLogClient log, CancellationToken cancellationToken)
    {
        var byInput = (await LogAudit.ReadAllAsync(log, Output, cancellationToken, stored: true))
            .Select(a => a.Event.Data!.ToObjectFromJson<AuditRecord>(JsonSerializerOptions.Web)!)
            .GroupBy(r => (r.Partition, r.Offset))
            .ToList();
        long reruns = byInput.Sum(g => g.Select(r => r.AuditedAt).Distinct().Count() - 1L);
        long twice = byInput.Sum(g => g.Count() - (long)g.Select(r => r.AuditedAt).Distinct().Count());
        return (reruns, twice);
    }

    private Order OrderOf(int i) => new($"o-{i:D6}", $"c{i % customers:D3}", 10 + (i % 90));

    private LogEvent Order(int i)
    {
        Order order = OrderOf(i);
        return new LogEvent(order.OrderId, "/shop", "com.example.order.created")
        {
            PartitionKey = order.Customer,
            DataContentType = "application/json",
            Data = BinaryData.FromObjectAsJson(order, JsonSerializerOptions.Web),
        };
    }
}
