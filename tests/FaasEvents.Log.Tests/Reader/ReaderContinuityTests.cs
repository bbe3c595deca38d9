using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Events;
using FaasEvents.Log.Format;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Reader;

/// <summary>A reader never stalls at a segment boundary and never silently skips or repeats offsets.</summary>
public class ReaderContinuityTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Resuming_at_the_end_of_a_segment_full_by_batch_count_moves_on_to_the_next_segment()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "edge", SegmentMaxBlocks = 3 });
        await using (EventProducerClient p = log.CreateProducer("edge", new EventProducerOptions { Linger = TimeSpan.Zero }))
        {
            for (int i = 0; i < 5; i++)
            {
                await p.SendAsync(TestEvents.Json($"e{i}")); // segment 0: offsets 0-2 (full by count), segment 3: 3-4
            }
        }

        // A consumer that read segment 0 to its end checkpointed offset 3 with the hint "end of segment 0".
        LogPosition? hint = null;
        await foreach (EventBlock block in log.ReadBlocksAsync("edge", 0, new ReadOptions { EndOffset = 3 }))
        {
            hint = block.End;
        }

        Assert.Equal(new LogPosition(0, hint!.Value.BytePosition), hint);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var read = new List<long>();
        await foreach (StoredEvent e in log.ReadPartitionAsync("edge", 0, new ReadOptions { From = StartPosition.FromOffset(3), PositionHint = hint, Follow = true, PollInterval = TimeSpan.FromMilliseconds(50) }, cts.Token))
        {
            read.Add(e.Offset);
            if (read.Count == 2)
            {
                break;
            }
        }

        Assert.Equal([3L, 4L], read);
    }

    [Theory]
    [InlineData(5, "missing")]  // offsets 2-4 absent
    [InlineData(1, "repeated")] // offset 1 twice
    public async Task A_batch_that_does_not_start_where_the_previous_one_ended_fails_the_read_naming_where(long secondBase, string what)
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "gap" });
        AppendBlobClient segment = log.Container.GetAppendBlobClient("streams/gap/00000/00000000000000000000");
        await segment.CreateAsync();
        await segment.AppendBlockAsync(new MemoryStream(Batch(0, 2, 0)));
        await segment.AppendBlockAsync(new MemoryStream(Batch(secondBase, 2, 1)));

        var good = new List<long>();
        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(async () =>
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync("gap", 0))
            {
                good.Add(e.Offset);
            }
        });

        Assert.Equal(EventLogErrorReason.CorruptData, ex.Reason);
        Assert.Contains("stream 'gap' partition 0 at offset 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("streams/gap/00000/00000000000000000000", ex.Message, StringComparison.Ordinal);
        Assert.Contains(what, ex.Message, StringComparison.Ordinal);
        Assert.Equal([0L, 1L], good);
    }

    private static byte[] Batch(long baseOffset, int count, int blockIndex)
    {
        var records = Enumerable.Range(0, count)
            .Select(i => new EncodedRecord(1, EventCodec.EncodeBody(TestEvents.Json($"r{baseOffset + i}"), 1)))
            .ToList();
        byte[] buffer = new byte[BatchFormat.GetBatchLength(records)];
        BatchFormat.Write(buffer, records, baseOffset, Guid.NewGuid(), blockIndex + 1, blockIndex);
        return buffer;
    }
}
