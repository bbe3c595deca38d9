using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Producer;

/// <summary>
/// A send call's events are encoded into one pooled array, returned to the pool when the call completes. Calls that
/// share blocks, span partitions and complete in any order must still append exactly what each event held: an array
/// returned while an appender could still read it would show here as another call's bytes.
/// </summary>
public class PooledBodiesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Concurrent_calls_over_several_partitions_append_every_event_with_its_own_bytes()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "pooled-bodies", Partitions = 4 });
        await using EventProducerClient producer = log.CreateProducer("pooled-bodies", new EventProducerOptions { Linger = TimeSpan.FromMilliseconds(5), MaxBatchBytes = 64 * 1024 });

        const int calls = 24, perCall = 150;
        var sent = Enumerable.Range(0, calls).Select(c => Enumerable.Range(0, perCall).Select(i => Event(c, i)).ToList()).ToList();
        for (int round = 0; round < 2; round++) // the second round's calls rent the arrays the first round's returned
        {
            await Task.WhenAll(sent.Select(events => producer.SendBatchAsync(events.Select(e => Copy(e, round)))));
        }

        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "pooled-bodies");
        Assert.Equal(2 * calls * perCall, read.Count);
        Assert.All(read, e => Assert.Equal(Body(e.Event.Id), e.Event.Data!.ToString()));
        Assert.Equal(2 * calls * perCall, read.Select(e => e.Event.Id).Distinct().Count());
    }

    private static LogEvent Event(int call, int index) => new($"c{call}-e{index}", "/tests", "pooled") { PartitionKey = index % 3 == 0 ? null : $"k{index % 7}" };

    private static LogEvent Copy(LogEvent e, int round)
    {
        string id = $"r{round}-{e.Id}";
        return new LogEvent(id, e.Source, e.Type) { PartitionKey = e.PartitionKey, Data = BinaryData.FromString(Body(id)) };
    }

    private static string Body(string id) => $"{id}:{new string((char)('a' + (id.Length % 26)), 200 + (id.GetHashCode(StringComparison.Ordinal) & 0xFF))}";
}
