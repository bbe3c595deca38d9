using FaasEvents.Log;
using FaasEvents.Log.DeadLetters;
using FaasEvents.Log.Events;
using FaasEvents.Log.Streams;

namespace FaasEvents.TestSupport;

/// <summary>Helpers to make and recognise test events.</summary>
public static class TestEvents
{
    /// <summary>A small JSON event with a unique id.</summary>
    public static LogEvent Json(string id, string? key = null, string type = "test.event", string source = "/tests", int padTo = 0)
    {
        string body = $"{{\"id\":\"{id}\"{(padTo > 0 ? ",\"pad\":\"" + new string('x', padTo) + "\"" : "")}}}";
        return new LogEvent(id, source, type)
        {
            PartitionKey = key,
            DataContentType = "application/json",
            Data = BinaryData.FromString(body),
        };
    }

    /// <summary>A dead letter as the function runtime writes it: the event (JSON data) with its dlq* attributes.</summary>
    public static LogEvent DeadLetter(string id, string type, string key, string sourceStream, int partition, long offset, string error = "amount must be positive")
    {
        var e = new LogEvent(id, "/shop", type) { PartitionKey = key, DataContentType = "application/json", Data = BinaryData.FromString("{\"amount\":-5}") };
        e.Extensions[DeadLetterAttributes.Error] = error;
        e.Extensions[DeadLetterAttributes.Attempts] = 5;
        e.Extensions[DeadLetterAttributes.Stream] = sourceStream;
        e.Extensions[DeadLetterAttributes.Partition] = partition;
        e.Extensions[DeadLetterAttributes.Offset] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        e.Extensions[DeadLetterAttributes.Time] = DateTimeOffset.UtcNow;
        return e;
    }

    /// <summary>Reads every event of every partition, in partition then offset order.</summary>
    public static async Task<List<StoredEvent>> ReadAllAsync(EventLogClient client, string stream, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await client.GetStreamAsync(stream, cancellationToken);
        var all = new List<StoredEvent>();
        for (int p = 0; p < def.Partitions; p++)
        {
            await foreach (StoredEvent e in client.ReadPartitionAsync(stream, p, cancellationToken: cancellationToken))
            {
                all.Add(e);
            }
        }

        return all;
    }

    /// <summary>A cancellation token that fires after <paramref name="seconds"/> so no test waits forever.</summary>
    public static CancellationToken Timeout(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}
