using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests;

/// <summary>Races, ambiguous failures and corrupt bytes. Each test states what was lost: nothing.</summary>
public class FaultTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Four_producers_racing_on_one_partition_lose_and_duplicate_nothing()
    {
        EventLogClient log = azurite.CreateClient();
        CancellationToken ct = TestEvents.Timeout(300);
        await log.CreateStreamAsync(new StreamDefinition { Name = "race" }, ct);
        const int producers = 4, perProducer = 5000, chunk = 50;

        await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            // Separate clients: separate producer ids and tail caches, as separate processes would have.
            EventLogClient own = azurite.CreateClientFor(log);
            await using EventProducerClient producer = own.CreateProducer("race", new EventProducerOptions { Linger = TimeSpan.Zero });
            for (int i = 0; i < perProducer; i += chunk)
            {
                await producer.SendBatchAsync(Enumerable.Range(i, chunk).Select(n => TestEvents.Json($"p{p}-{n}")), ct);
            }
        }, ct)));

        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "race", ct);
        Assert.Equal(Enumerable.Range(0, producers * perProducer).Select(i => (long)i), read.Select(e => e.Offset)); // contiguous 0..19,999
        Assert.Equal(producers * perProducer, read.Select(e => e.Event.Id).Distinct().Count()); // each exactly once: lost 0, duplicated 0
        foreach (IGrouping<string, StoredEvent> byProducer in read.GroupBy(e => e.Event.Id.Split('-')[0]))
        {
            List<int> seq = byProducer.Select(e => int.Parse(e.Event.Id.Split('-')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(0, perProducer), seq); // each producer's order kept
        }
    }

    [Theory]
    [InlineData(true)]  // the SDK retries by itself and gets a 412 for its own landed append
    [InlineData(false)] // the SDK gives up and the producer resolves the ambiguity
    public async Task Append_whose_response_is_lost_is_not_duplicated(bool sdkRetries)
    {
        var fault = new LoseResponseOnce();
        var storage = new BlobClientOptions();
        storage.Retry.MaxRetries = sdkRetries ? 3 : 0;
        storage.Retry.Delay = TimeSpan.FromMilliseconds(10);
        storage.AddPolicy(fault, HttpPipelinePosition.PerRetry);
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = storage });
        await log.CreateStreamAsync(new StreamDefinition { Name = "lost" });
        await using EventProducerClient producer = log.CreateProducer("lost");
        await producer.SendBatchAsync([TestEvents.Json("before")]);

        fault.Armed = true;
        IReadOnlyList<EventPosition> positions = await producer.SendBatchAsync([TestEvents.Json("x1"), TestEvents.Json("x2")]);
        await producer.SendBatchAsync([TestEvents.Json("after")]);

        Assert.Equal(1, fault.Injected);
        Assert.Equal([1L, 2L], positions.Select(p => p.Offset));
        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "lost");
        Assert.Equal(["before", "x1", "x2", "after"], read.Select(e => e.Event.Id)); // lost 0, duplicated 0
        Assert.Equal([0L, 1L, 2L, 3L], read.Select(e => e.Offset));
    }

    [Fact]
    public async Task Flipped_byte_in_a_segment_fails_the_read_naming_stream_partition_and_offset()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "rot", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("rot"))
        {
            for (int b = 0; b < 3; b++)
            {
                await producer.SendBatchAsync(Enumerable.Range(0, 10).Select(i => TestEvents.Json($"b{b}-{i}")), 1);
            }
        }

        // Rewrite partition 1's segment with one byte flipped inside the second batch (offsets 10..19).
        AppendBlobClient segment = log.Container.GetAppendBlobClient("streams/rot/00001/00000000000000000000");
        byte[] bytes = (await segment.DownloadContentAsync()).Value.Content.ToArray();
        int batchLength = BitConverter.ToInt32(bytes, 8);
        bytes[batchLength + 200] ^= 0x01;
        await segment.DeleteAsync();
        await segment.CreateAsync();
        await segment.AppendBlockAsync(new MemoryStream(bytes));

        var good = new List<long>();
        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(async () =>
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync("rot", 1))
            {
                good.Add(e.Offset);
            }
        });

        Assert.Equal(EventLogErrorReason.CorruptData, ex.Reason);
        Assert.Contains("stream 'rot' partition 1 at offset 10", ex.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", ex.Message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), good); // the reader stopped at the bad batch; it skipped nothing
    }

    [Theory]
    [InlineData(true)]  // the SDK retries the metadata write and gets a 412 for its own landed commit
    [InlineData(false)] // the SDK gives up; the caller retries the commit later
    public async Task State_commit_whose_response_is_lost_is_neither_lost_nor_applied_twice(bool sdkRetries)
    {
        var fault = new LoseResponseOnce("comp=metadata", 200);
        var storage = new BlobClientOptions();
        storage.Retry.MaxRetries = sdkRetries ? 3 : 0;
        storage.Retry.Delay = TimeSpan.FromMilliseconds(10);
        storage.AddPolicy(fault, HttpPipelinePosition.PerRetry);
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = storage });
        PartitionLease lease = (await log.CreateLeaseClient("a").TryAcquireAsync("inventory", "moves", 0, TimeSpan.FromSeconds(15)))!;
        PartitionStateStore store = log.CreateStateStore("inventory", "moves", 0);
        await store.CommitAsync(new Dictionary<string, BinaryData?> { ["sku-1"] = BinaryData.FromString("10") }, 1, lease);

        fault.Armed = true;
        var changes = new Dictionary<string, BinaryData?> { ["sku-1"] = BinaryData.FromString("9"), ["sku-2"] = BinaryData.FromString("5") };
        if (sdkRetries)
        {
            await store.CommitAsync(changes, 2, lease); // resolved inside: the commit landed
        }
        else
        {
            await Assert.ThrowsAnyAsync<Exception>(() => store.CommitAsync(changes, 2, lease)); // ambiguous to the caller
            await store.CommitAsync(changes, 2, lease); // the caller's retry of the same commit succeeds, not "behind"
        }

        await store.CommitAsync(new Dictionary<string, BinaryData?> { ["sku-2"] = BinaryData.FromString("4") }, 3, lease); // the chain continues from the committed blob
        Assert.Equal(1, fault.Injected);
        RestoredState restored = await log.CreateStateStore("inventory", "moves", 0).RestoreAsync();
        Assert.Equal(new Dictionary<string, string> { ["sku-1"] = "9", ["sku-2"] = "4" }, restored.Table.ToDictionary(kv => kv.Key, kv => kv.Value.ToString()));
        Assert.Equal(3, restored.NextOffset);
    }

    /// <summary>Lets one matching request reach storage, then throws as if the response was lost.</summary>
    private sealed class LoseResponseOnce(string query = "comp=appendblock", int status = 201) : HttpPipelinePolicy
    {
        public volatile bool Armed;
        public int Injected;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (Armed && message.Request.Uri.Query.Contains(query, StringComparison.Ordinal) && message.Response.Status == status)
            {
                Armed = false;
                Interlocked.Increment(ref Injected);
                throw new IOException($"Injected fault: the request ({query}) landed but its response was lost.");
            }
        }
    }
}
