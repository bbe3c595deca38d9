using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Samples;

namespace FaasEvents.Reliability;

/// <summary>
/// Book upserts and deletes for the book-catalog materializer, with the model they must fold into (latest version per
/// ISBN; a tombstone removes it), and the check of its table and changelog against that model.
/// </summary>
public sealed class BooksWorkload
{
    public const string Stream = "books";
    public const string Group = "book-catalog";
    public const string Changelog = "book-catalog.changelog";

    private readonly List<LogEvent> events;
    private readonly Dictionary<string, Book> model = new(StringComparer.Ordinal);

    public BooksWorkload(int count)
    {
        Keys = Math.Max(50, count / 20);
        var random = new Random(11);
        events = new List<LogEvent>(count);
        for (int i = 0; i < count; i++)
        {
            string isbn = $"isbn-{random.Next(Keys):D6}";
            if (random.Next(25) == 0)
            {
                events.Add(new LogEvent($"b{i}", "/catalog", "com.example.book.deleted") { PartitionKey = isbn });
                model.Remove(isbn);
                continue;
            }

            var book = new Book(isbn, $"title v{i}", "author", 1900 + (i % 120));
            events.Add(new LogEvent($"b{i}", "/catalog", "com.example.book.upserted") { PartitionKey = isbn, DataContentType = "application/json", Data = BinaryData.FromObjectAsJson(book, JsonSerializerOptions.Web) });
            model[isbn] = book;
        }
    }

    /// <summary>Distinct ISBNs the events use.</summary>
    public int Keys { get; }

    /// <summary>Events produced.</summary>
    public int Count => events.Count;

    public static async Task CreateStreamsAsync(EventLogClient log, CancellationToken cancellationToken)
    {
        await log.CreateStreamAsync(new StreamDefinition { Name = Stream, Partitions = 4, Kind = StreamKind.Entities }, cancellationToken);
        await log.CreateStreamAsync(new StreamDefinition { Name = Changelog, Partitions = 4, Kind = StreamKind.Entities }, cancellationToken);
    }

    /// <summary>Sends every event in chunks of 500 with <paramref name="pause"/> between chunks.</summary>
    public async Task ProduceAsync(EventLogClient log, TimeSpan pause, CancellationToken cancellationToken)
    {
        await using EventProducerClient producer = log.CreateProducer(Stream);
        foreach (LogEvent[] chunk in events.Chunk(500))
        {
            await producer.SendBatchAsync(chunk, cancellationToken);
            await Task.Delay(pause, cancellationToken);
        }
    }

    /// <summary>Keys of the committed table and of the changelog (folded latest-wins) that differ from the model.</summary>
    public async Task<(long TableWrong, long ChangelogWrong, int TableKeys)> CheckAsync(EventLogClient log, CancellationToken cancellationToken)
    {
        var table = new Dictionary<string, Book>(StringComparer.Ordinal);
        await foreach (KeyValuePair<string, BinaryData> kv in log.CreateStateReader(Group, Stream).ScanAllAsync(cancellationToken: cancellationToken))
        {
            table[kv.Key] = kv.Value.ToObjectFromJson<Book>(JsonSerializerOptions.Web)!;
        }

        var folded = new Dictionary<string, Book>(StringComparer.Ordinal);
        foreach (StoredEvent e in await LogAudit.ReadAllAsync(log, Changelog, cancellationToken))
        {
            if (e.Event.Data is null)
            {
                folded.Remove(e.Event.PartitionKey!);
            }
            else
            {
                folded[e.Event.PartitionKey!] = e.Event.Data.ToObjectFromJson<Book>(JsonSerializerOptions.Web)!;
            }
        }

        return (Differences(table), Differences(folded), table.Count);
    }

    private long Differences(Dictionary<string, Book> seen) =>
        model.Count(kv => !seen.TryGetValue(kv.Key, out Book? b) || b != kv.Value) + seen.Keys.Count(k => !model.ContainsKey(k));
}
