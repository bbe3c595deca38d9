using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.Log.Tests.Streams;

/// <summary>Creating and deleting streams never removes data of a stream that exists (invariant 12).</summary>
public class StreamLifecycleTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Re_creating_an_existing_stream_refuses_and_keeps_its_events()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "keep", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("keep"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 10).Select(i => TestEvents.Json($"e{i}", key: $"k{i}")));
        }

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => log.CreateStreamAsync(new StreamDefinition { Name = "keep", Partitions = 2 }));

        Assert.Equal(EventLogErrorReason.StreamAlreadyExists, ex.Reason);
        List<StoredEvent> read = await TestEvents.ReadAllAsync(log, "keep");
        Assert.Equal(10, read.Count); // lost 0
    }

    [Fact]
    public async Task Racing_creators_that_each_append_lose_nothing()
    {
        // The dead-letter and createStreamsIfMissing paths: every writer creates the stream if missing, then appends.
        EventLogClient log = azurite.CreateClient();
        CancellationToken ct = TestEvents.Timeout(120);
        for (int round = 0; round < 5; round++)
        {
            string stream = $"race-create-{round}";
            await Task.WhenAll(Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
            {
                EventLogClient own = azurite.CreateClientFor(log);
                try
                {
                    await own.CreateStreamAsync(new StreamDefinition { Name = stream }, ct);
                }
                catch (EventLogException e) when (e.Reason == EventLogErrorReason.StreamAlreadyExists)
                {
                }

                await using EventProducerClient producer = own.CreateProducer(stream);
                await producer.SendAsync(TestEvents.Json($"w{w}"), ct);
            }, ct)));

            List<StoredEvent> read = await TestEvents.ReadAllAsync(log, stream, ct);
            Assert.Equal(["w0", "w1", "w2", "w3", "w4", "w5"], read.Select(e => e.Event.Id).Order()); // every acknowledged event, once
        }
    }

    [Fact]
    public async Task An_interrupted_delete_hides_the_stream_and_the_next_create_finishes_it()
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions(sdkRetries: 0) });
        await log.CreateStreamAsync(new StreamDefinition { Name = "gone", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("gone"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 10).Select(i => TestEvents.Json($"old{i}", key: $"k{i}")));
        }

        await log.Checkpoints.UpdateAsync("g", "gone", 0, 3);
        faults.Once(StorageOperation.Delete, FaultKind.Refuse503, r => r.Uri.Path.Contains("/streams/gone/0000", StringComparison.Ordinal), times: 100);
        await Assert.ThrowsAnyAsync<Exception>(() => log.DeleteStreamAsync("gone")); // crashed half-way: segments left behind
        faults.Clear();

        EventLogException notFound = await Assert.ThrowsAsync<EventLogException>(() => log.GetStreamAsync("gone"));
        Assert.Equal(EventLogErrorReason.StreamNotFound, notFound.Reason);
        await log.CreateStreamAsync(new StreamDefinition { Name = "gone", Partitions = 2 });
        Assert.Empty(await TestEvents.ReadAllAsync(log, "gone")); // the old stream's events are not resurrected
        Assert.Null(await log.Checkpoints.GetAsync("g", "gone", 0)); // nor its checkpoints
    }

    [Fact]
    public async Task Create_over_segments_without_a_definition_refuses_with_the_fix_and_delete_clears_them()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orphan" });
        await using (EventProducerClient producer = log.CreateProducer("orphan"))
        {
            await producer.SendAsync(TestEvents.Json("old"));
        }

        // An older version's delete removed stream.json first and stopped there.
        await log.Container.GetBlobClient("streams/orphan/stream.json").DeleteAsync();

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => log.CreateStreamAsync(new StreamDefinition { Name = "orphan" }));
        Assert.Contains("faas streams delete orphan", ex.Message, StringComparison.Ordinal);
        Assert.Single(await ListSegmentsAsync(log, "orphan")); // nothing deleted by the refused create

        await log.DeleteStreamAsync("orphan");
        await log.CreateStreamAsync(new StreamDefinition { Name = "orphan" });
        Assert.Empty(await TestEvents.ReadAllAsync(log, "orphan"));
    }

    private static async Task<List<string>> ListSegmentsAsync(EventLogClient log, string stream)
    {
        var names = new List<string>();
        await foreach (Azure.Storage.Blobs.Models.BlobItem item in log.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"streams/{stream}/0", CancellationToken.None))
        {
            names.Add(item.Name);
        }

        return names;
    }
}
