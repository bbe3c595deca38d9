using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Log.Tests.Producer;

/// <summary>What a file costs follows from its size: every Append Block but each partition's last is full.</summary>
public class BulkSenderTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const int Partitions = 4;

    [Fact]
    public async Task Every_block_but_each_partitions_last_is_full_and_order_is_the_lists()
    {
        var counter = new StorageRequestCounter();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = counter.CreateOptions() });
        await log.CreateStreamAsync(new StreamDefinition { Name = "bulk", Partitions = Partitions });
        List<LogEvent> events = [.. Enumerable.Range(0, 12_000).Select(i => TestEvents.Json($"e{i}", key: $"c{i % 37}", padTo: 1000))];
        int advanced = 0;
        int appendsBefore = counter.ByOperation.GetValueOrDefault(StorageOperation.AppendBlock);

        IReadOnlyList<EventPosition> positions = await BulkSender.SendAllAsync(log, "bulk", events, progress: n => advanced += n, cancellationToken: TestEvents.Timeout());

        Assert.Equal(events.Count, advanced);
        Assert.Equal(events.Count, positions.Count);
        int blocks = 0;
        for (int p = 0; p < Partitions; p++)
        {
            List<EventBlock> stored = [];
            await foreach (EventBlock block in log.ReadBlocksAsync("bulk", p, cancellationToken: TestEvents.Timeout()))
            {
                stored.Add(block);
            }

            // In the list's order: the partition holds exactly the events routed to it, in that order.
            List<string> expected = [.. events.Where(e => KeyPartitioner.GetPartition(e.PartitionKey!, Partitions) == p).Select(e => e.Id)];
            Assert.Equal(expected, stored.SelectMany(b => b.Events).Select(e => e.Event.Id));
            Assert.True(stored.Count >= 2, $"partition {p} holds {expected.Count} events in {stored.Count} block(s): the test needs more than one block");

            // Full: no block but the last has room for one more event (each is ~1.1 KiB encoded; 2 KiB is a bound).
            long[] sizes = [.. stored.Select(b => b.End.BytePosition - b.Start.BytePosition)];
            for (int b = 0; b < sizes.Length - 1; b++)
            {
                Assert.True(sizes[b] > new EventProducerOptions().MaxBatchBytes - 2048, $"partition {p} block {b} of {sizes.Length} holds {sizes[b]:N0} bytes, not a full block; sizes: {string.Join(", ", sizes)}");
            }

            blocks += stored.Count;
        }

        Assert.Equal(blocks, counter.ByOperation.GetValueOrDefault(StorageOperation.AppendBlock) - appendsBefore); // no append but these
    }
}
