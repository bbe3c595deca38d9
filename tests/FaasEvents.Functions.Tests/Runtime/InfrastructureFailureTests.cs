using System.Collections.Concurrent;
using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using Microsoft.Extensions.DependencyInjection;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// Storage failing under a function's writes is an infrastructure failure, not the handler's (issue 12, defect 1): the
/// handler runs once per event, nothing is dead-lettered, and the write is retried until storage answers.
/// </summary>
public class InfrastructureFailureTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 10, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050",
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 2, "delayInterval": "00:00:00.050" } } } }
        """;

    public static class Functions
    {
        public static ConcurrentDictionary<string, int> Runs { get; } = new();

        [Function("infra-fn")]
        [EventOutput("infra-out")]
        public static string Handle([EventTrigger("infra-in")] CloudEvent e)
        {
            Runs.AddOrUpdate(e.Id!, 1, (_, n) => n + 1);
            return e.Id!;
        }
    }

    public static class Counter
    {
        public static ConcurrentDictionary<string, int> Runs { get; } = new();

        [Function("infra-count")]
        [EventOutput("infra-count-out")]
        public static int? Count([MaterializerTrigger("infra-moves")] LogEvent? e, [CurrentState] int? current, FunctionContext context)
        {
            Runs.AddOrUpdate(context.Events[0].Event.Id, 1, (_, n) => n + 1);
            context.AddOutput(e!.Id); // every fold emits: each one's append fails while the outage lasts
            return (current ?? 0) + 1;
        }
    }

    [Fact]
    public async Task A_materializer_whose_output_appends_fail_folds_every_event_once()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "infra-moves", Partitions = 1, Kind = StreamKind.Entities });
        await log.CreateStreamAsync(new StreamDefinition { Name = "infra-count-out", Partitions = 1 });
        var faults = new StorageFaultInjector();
        faults.Once(StorageOperation.AppendBlock, FaultKind.Refuse503, r => r.Uri.Path.Contains("/streams/infra-count-out/", StringComparison.Ordinal), times: 20);
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Counter), HostJson, b => b.Services.AddSingleton(faults.CreateOptions(sdkRetries: 0)));
        await app.StartAsync();
        await using (EventProducerClient producer = azurite.CreateClientFor(log).CreateProducer("infra-moves"))
        {
            for (int i = 0; i < 6; i++)
            {
                await producer.SendAsync(new LogEvent($"move-{i}", "/t", "t") { PartitionKey = i % 2 == 0 ? "a" : "b", Data = BinaryData.FromString("{}") });
            }
        }

        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("infra-moves", "infra-count")).TotalLag == 0, "the moves folded and committed", 120);
        await app.StopAsync();

        Assert.Equal(20, faults.Total);
        Assert.All(Enumerable.Range(0, 6), i => Assert.Equal(1, Counter.Runs.GetValueOrDefault($"move-{i}"))); // folded once each
        StateReader state = log.CreateStateReader("infra-count", "infra-moves");
        Assert.Equal(("3", "3"), ((await state.GetAsync("a")).Value!.ToString(), (await state.GetAsync("b")).Value!.ToString())); // no fold skipped
        Assert.Null(await log.TryGetStreamAsync("infra-moves.infra-count.deadletter"));
    }

    [Fact]
    public async Task Output_appends_refused_by_storage_are_retried_as_infrastructure_the_handler_runs_once_and_nothing_is_dead_lettered()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "infra-in", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "infra-out", Partitions = 1 });
        var faults = new StorageFaultInjector();

        // A partial outage: only appends to the output stream fail, 20 times in a row (more than the producer's
        // 5 attempts times the handler's 3 tries), then storage answers again.
        faults.Once(StorageOperation.AppendBlock, FaultKind.Refuse503, r => r.Uri.Path.Contains("/streams/infra-out/", StringComparison.Ordinal), times: 20);
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions), HostJson, b => b.Services.AddSingleton(faults.CreateOptions(sdkRetries: 0)));
        await app.StartAsync();
        string[] ids = Enumerable.Range(0, 5).Select(i => $"infra-{i}").ToArray();
        await using (EventProducerClient producer = azurite.CreateClientFor(log).CreateProducer("infra-in"))
        {
            foreach (string id in ids)
            {
                await producer.SendAsync(new LogEvent(id, "/t", "t"));
            }
        }

        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("infra-in", "infra-fn")).TotalLag == 0, "the input handled and checkpointed", 120);
        await app.StopAsync();

        Assert.Equal(20, faults.Total);
        Assert.Equal(ids.Select(id => (id, 1)), ids.Select(id => (id, Functions.Runs.GetValueOrDefault(id)))); // handler side effects once
        Assert.Null(await log.TryGetStreamAsync("infra-in.infra-fn.deadletter")); // nothing dead-lettered
        Assert.Equal(ids, (await TestEvents.ReadAllAsync(log, "infra-out")).Select(e => e.Event.Data!.ToString().Trim('"'))); // outputs once, in order
    }

    public static class Poison
    {
        public static int Runs;

        [Function("infra-poison")]
        public static void Fail([EventTrigger("infra-poison-in")] CloudEvent e)
        {
            Interlocked.Increment(ref Runs);
            throw new InvalidOperationException("poison " + e.Id);
        }
    }

    [Fact]
    public async Task Stopping_the_app_interrupts_a_dead_letter_write_that_storage_keeps_refusing()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "infra-poison-in", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "infra-poison-in.infra-poison.deadletter", Partitions = 1 });
        var faults = new StorageFaultInjector();
        faults.Once(StorageOperation.AppendBlock, FaultKind.Refuse503, r => r.Uri.Path.Contains("/streams/infra-poison-in.infra-poison.deadletter/", StringComparison.Ordinal), times: int.MaxValue);
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Poison), HostJson, b => b.Services.AddSingleton(faults.CreateOptions(sdkRetries: 0)));
        await app.StartAsync();
        await using (EventProducerClient producer = azurite.CreateClientFor(log).CreateProducer("infra-poison-in"))
        {
            await producer.SendAsync(new LogEvent("poison-1", "/t", "t"));
        }

        await AppHarness.WaitUntilAsync(() => Volatile.Read(ref Poison.Runs) >= 3 && faults.Total >= 5, "the handler failed 3 times and the dead-letter write is being refused");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(20)); // SIGTERM: the partition stops, the event stays unchecked
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True((await log.Checkpoints.GetAsync("infra-poison", "infra-poison-in", 0))?.NextOffset is null or 0, "the poison event was checkpointed past without its dead letter"); // not skipped
    }
}
