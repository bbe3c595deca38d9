using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// What a function's outputs cost in storage requests (issue 19): one Append Block per output partition per block read
/// from storage (what one producer call appended), not one per chunk or per output event, and one checkpoint with it;
/// outputs that would wait longer than 250 ms for the rest of their block are appended sooner.
/// </summary>
public class OutputBatchingTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    public static class Audit
    {
        [Function("ob-audit")]
        [EventOutput("ob-out")]
        public static string Handle([EventTrigger("ob-in")] LogEvent e) => e.Id + "-audited";
    }

    public static class SlowAudit
    {
        [Function("ob-slow")]
        [EventOutput("ob-slow-out")]
        public static async Task<string> Handle([EventTrigger("ob-slow-in")] LogEvent e)
        {
            await Task.Delay(30); // a chunk of 10 takes 300 ms or more: past the 250 ms an output may wait
            return e.Id + "-audited";
        }
    }

    public static class QuietSlow
    {
        [Function("ob-quiet")]
        public static Task Handle([EventTrigger("ob-quiet-in")] LogEvent e) => Task.Delay(30); // no outputs; a chunk of 10 takes 300 ms or more
    }

    public static class HeldAudit
    {
        public static readonly SemaphoreSlim Reached = new(0);
        public static readonly SemaphoreSlim Release = new(0);

        [Function("ob-held")]
        [EventOutput("ob-held-out")]
        public static async Task<string> Handle([EventTrigger("ob-held-in")] LogEvent e)
        {
            if (e.Id == "h35")
            {
                Reached.Release();
                await Release.WaitAsync(); // the stop arrives while h35, in the block's fourth chunk, is under way
            }

            return e.Id + "-audited";
        }
    }

    [Fact]
    public async Task A_function_without_outputs_checkpoints_within_about_250_ms_not_only_at_its_blocks_end()
    {
        EventLogClient log = azurite.CreateClient();
        await ProduceOneBlockAsync(log, "ob-quiet-in", 60, "q");

        StorageRequestCounter counter = await RunUntilCheckpointedAsync(log, typeof(QuietSlow), "ob-quiet-in", "ob-quiet", "the 60 events handled and checkpointed");

        int checkpoints = counter.ByOperation.GetValueOrDefault(StorageOperation.SetMetadata);
        output.WriteLine($"60 slow events in one block, no outputs: {checkpoints} Set Metadata (the claim's owner record and the checkpoints)");
        // Each chunk took 300+ ms, past the 250 ms that handled events wait for their checkpoint: one after each chunk
        // (6) and the claim. At the block's end only, a crash would re-run the whole block (thousands of events in 1 MiB).
        Assert.InRange(checkpoints, 7, 14);
    }

    [Fact]
    public async Task A_stop_in_the_middle_of_a_block_appends_what_was_handled_and_checkpoints_exactly_that()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ob-held-out", Partitions = 1 });
        await ProduceOneBlockAsync(log, "ob-held-in", 100, "h");

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(HeldAudit)); // maxBatchSize 10
        await app.StartAsync();
        Assert.True(await HeldAudit.Reached.WaitAsync(TimeSpan.FromSeconds(60)), "the handler never reached h35");
        // h0..h34 handled: their outputs are kept for the block's end, or appended already if handling them took more than
        // the 250 ms bound (a slow machine); either way never the output of an event not yet handled.
        List<string> before = [.. (await TestEvents.ReadAllAsync(log, "ob-held-out")).Select(o => o.Event.Data!.ToString())];
        Assert.Equal(Enumerable.Range(0, before.Count).Select(i => $"h{i}-audited"), before);
        Assert.True(before.Count <= 35, $"{before.Count} outputs appended while h35 was still running");
        Task stopping = app.StopAsync();
        await Task.Delay(200); // the stop is under way: no further invocation starts
        HeldAudit.Release.Release();
        await stopping;

        List<string> outputs = [.. (await TestEvents.ReadAllAsync(log, "ob-held-out")).Select(o => o.Event.Data!.ToString())];
        LagReport lag = await log.GetLagAsync("ob-held-in", "ob-held");
        output.WriteLine($"stopped while handling h35 of a 100-event block: {outputs.Count} outputs appended, checkpoint at {100 - lag.TotalLag}");
        // The invocation under way finished, no other started; the outputs of h0..h35, kept across three chunks and a
        // half, were appended with the checkpoint right after them: nothing lost, nothing handled twice by the next owner.
        Assert.Equal(Enumerable.Range(0, 36).Select(i => $"h{i}-audited"), outputs);
        Assert.Equal(64, lag.TotalLag);
    }

    [Fact]
    public async Task Outputs_of_a_100_event_block_in_chunks_of_10_cost_one_append_per_output_partition_and_one_checkpoint()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ob-out", Partitions = 2 });
        await ProduceOneBlockAsync(log, "ob-in", 100, "o", keyed: true);

        StorageRequestCounter counter = await RunUntilCheckpointedAsync(log, typeof(Audit), "ob-in", "ob-audit", "the 100 events handled and checkpointed");

        List<StoredEvent> outputs = await TestEvents.ReadAllAsync(log, "ob-out");
        Assert.Equal(100, outputs.Count);
        int appends = counter.ByOperation.GetValueOrDefault(StorageOperation.AppendBlock);
        output.WriteLine($"100 output events: {appends} Append Block requests ({appends / 100.0:0.00} per output event); all requests of the app: {counter}");
        // One block of 100 input events: 2 appends (one per output partition), plus a re-sent request now and then (a
        // retried Append Block counts again). 20 when outputs were appended per chunk of 10, 100 before batching.
        Assert.InRange(appends, 2, 4);
        int checkpoints = counter.ByOperation.GetValueOrDefault(StorageOperation.SetMetadata);
        Assert.InRange(checkpoints, 1, 4); // the claim's owner record, the block's checkpoint (and the final one if the stop writes one); 11 per chunk before
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"o{i}-audited").Order(StringComparer.Ordinal), outputs.Select(o => o.Event.Data!.ToString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Outputs_that_would_wait_more_than_250_ms_for_the_rest_of_their_block_are_appended_sooner()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ob-slow-out", Partitions = 1 });
        await ProduceOneBlockAsync(log, "ob-slow-in", 60, "s");

        StorageRequestCounter counter = await RunUntilCheckpointedAsync(log, typeof(SlowAudit), "ob-slow-in", "ob-slow", "the 60 events handled and checkpointed");

        Assert.Equal(60, (await TestEvents.ReadAllAsync(log, "ob-slow-out")).Count);
        int appends = counter.ByOperation.GetValueOrDefault(StorageOperation.AppendBlock);
        output.WriteLine($"60 slow events in one block: {appends} Append Block requests");
        Assert.InRange(appends, 6, 12); // each chunk's outputs waited 300+ ms: appended after it, not once at the block's end
    }

    /// <summary>Creates a one-partition stream holding one stored block of <paramref name="count"/> events (ids prefix0, prefix1, ...).</summary>
    private static async Task ProduceOneBlockAsync(EventLogClient log, string stream, int count, string prefix, bool keyed = false)
    {
        await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 1 });
        await using EventProducerClient producer = log.CreateProducer(stream);
        await producer.SendBatchAsync(Enumerable.Range(0, count).Select(i => new LogEvent($"{prefix}{i}", "/t", "t") { PartitionKey = keyed ? $"k{i % 10}" : null }).ToList()); // one call, one block
    }

    /// <summary>Runs the function app (maxBatchSize 10) until the group has checkpointed the whole stream, then stops it; the app's storage requests, counted.</summary>
    private async Task<StorageRequestCounter> RunUntilCheckpointedAsync(EventLogClient log, Type functions, string stream, string group, string what)
    {
        var counter = new StorageRequestCounter();
        await using FunctionsApp app = AppHarness.Build(azurite, log, functions, configure: b => b.Services.AddSingleton(counter.CreateOptions()));
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync(stream, group)).TotalLag == 0, what);
        await app.StopAsync();
        return counter;
    }
}
