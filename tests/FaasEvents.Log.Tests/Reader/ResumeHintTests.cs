using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Reader;

/// <summary>Checkpoints carry a byte-position hint, so resuming mid-segment does not re-read the segment.</summary>
public class ResumeHintTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private sealed class ByteCounter : HttpPipelinePolicy
    {
        public long Bytes;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            Count(message);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            Count(message);
        }

        private void Count(HttpMessage message)
        {
            if (message.Request.Method == RequestMethod.Get && message.Response.Headers.ContentLength is int n)
            {
                Interlocked.Add(ref Bytes, n);
            }
        }
    }

    private async Task<(EventLogClient Log, ByteCounter Counter)> SetUpAsync()
    {
        var counter = new ByteCounter();
        var storage = new BlobClientOptions();
        storage.AddPolicy(counter, HttpPipelinePosition.PerCall);
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = storage });
        await log.CreateStreamAsync(new StreamDefinition { Name = "hint" });
        await using EventProducerClient p = log.CreateProducer("hint", new EventProducerOptions { Linger = TimeSpan.Zero });
        for (int b = 0; b < 200; b++)
        {
            await p.SendBatchAsync(Enumerable.Range(0, 10).Select(i => TestEvents.Json($"{b}-{i}", padTo: 1000)));
        }

        return (log, counter);
    }

    [Fact]
    public async Task Resuming_with_the_checkpoints_position_reads_a_fraction_of_the_segment_and_the_same_events()
    {
        (EventLogClient log, ByteCounter counter) = await SetUpAsync();

        // A consumer reads to offset 1,500 and checkpoints with the position its reader reported.
        LogPosition? position = null;
        await foreach (EventBlock block in log.ReadBlocksAsync("hint", 0))
        {
            if (block.Events[^1].Offset == 1499)
            {
                position = block.End;
                break;
            }
        }

        await log.Checkpoints.UpdateAsync("g", "hint", 0, 1500, position, lease: null);
        Checkpoint cp = (await log.Checkpoints.GetAsync("g", "hint", 0))!;
        Assert.Equal(position, cp.Position);

        Interlocked.Exchange(ref counter.Bytes, 0);
        List<long> scanned = await log.ReadPartitionAsync("hint", 0, new ReadOptions { From = StartPosition.FromOffset(cp.NextOffset) }).Select(e => e.Offset).ToListAsync();
        long withoutHint = Interlocked.Exchange(ref counter.Bytes, 0);
        List<long> hinted = await log.ReadPartitionAsync("hint", 0, new ReadOptions { From = StartPosition.FromOffset(cp.NextOffset), PositionHint = cp.Position }).Select(e => e.Offset).ToListAsync();
        long withHint = Interlocked.Read(ref counter.Bytes);

        Assert.Equal(Enumerable.Range(1500, 500).Select(i => (long)i), hinted);
        Assert.Equal(scanned, hinted);
        Assert.True(withHint < withoutHint * 0.4, $"with hint {withHint:N0} bytes, without {withoutHint:N0}"); // ~25% of the segment vs all of it
    }

    [Theory]
    [InlineData(0L, 7L)]          // not a batch boundary
    [InlineData(0L, 999_999_999L)] // past the end
    [InlineData(42L, 0L)]         // another segment
    public async Task A_wrong_hint_costs_a_scan_never_a_wrong_event(long segment, long bytes)
    {
        (EventLogClient log, _) = await SetUpAsync();
        List<long> offsets = await log.ReadPartitionAsync("hint", 0, new ReadOptions { From = StartPosition.FromOffset(1234), PositionHint = new LogPosition(segment, bytes) }).Select(e => e.Offset).ToListAsync();
        Assert.Equal(Enumerable.Range(1234, 766).Select(i => (long)i), offsets);
    }

    [Fact]
    public async Task A_hint_for_a_batch_that_does_not_hold_the_offset_is_ignored()
    {
        (EventLogClient log, _) = await SetUpAsync();
        LogPosition? early = null;
        await foreach (EventBlock block in log.ReadBlocksAsync("hint", 0))
        {
            early = block.Start; // the first batch: offsets 0..9
            break;
        }

        List<long> offsets = await log.ReadPartitionAsync("hint", 0, new ReadOptions { From = StartPosition.FromOffset(1000), PositionHint = early }).Select(e => e.Offset).ToListAsync();
        Assert.Equal(1000, offsets[0]);
        Assert.Equal(1000, offsets.Count);
    }
}
