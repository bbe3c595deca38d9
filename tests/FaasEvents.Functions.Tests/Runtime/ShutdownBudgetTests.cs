using System.Collections.Concurrent;
using System.Diagnostics;
using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// SIGTERM stops after the in-flight invocation, checkpoints and releases, within the shutdown budget (issue 12,
/// defect 8): not after the whole current chunk, and not never when a handler runs past the budget.
/// </summary>
public class ShutdownBudgetTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 100, "maxConcurrentPartitions": 8, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050" } } }
        """;

    public static class Slow
    {
        public static ConcurrentDictionary<int, int> Handled { get; } = new();

        public static ConcurrentDictionary<int, int> StartedAfterStop { get; } = new();

        public static volatile bool Stopping;

        [Function("sd-slow")]
        public static async Task Handle([EventTrigger("sd-slow-in")] CloudEvent e, FunctionContext context)
        {
            if (Stopping)
            {
                StartedAfterStop.AddOrUpdate(context.Partition, 1, (_, n) => n + 1);
            }

            await Task.Delay(250, CancellationToken.None);
            Handled.AddOrUpdate(context.Partition, 1, (_, n) => n + 1);
        }
    }

    public static class Stuck
    {
        public static int Started;

        public static int Cancelled;

        [Function("sd-stuck")]
        public static async Task Handle([EventTrigger("sd-stuck-in")] CloudEvent e, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Started);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken); // honours cancellation, never finishes on its own
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref Cancelled);
                throw;
            }
        }
    }

    public static class WithOutput
    {
        public static int Runs;

        [Function("sd-out")]
        [EventOutput("sd-out-audit")]
        public static string Handle([EventTrigger("sd-out-in")] CloudEvent e)
        {
            Interlocked.Increment(ref Runs);
            return e.Id!;
        }
    }

    [Fact]
    public async Task Stopping_while_an_output_append_is_under_way_waits_for_it_and_counts_the_event_handled()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "sd-out-in", Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "sd-out-audit", Partitions = 1 });
        await using (EventProducerClient producer = log.CreateProducer("sd-out-in"))
        {
            await producer.SendAsync(TestEvents.Json("only"));
        }

        var faults = new StorageFaultInjector { Delay = TimeSpan.FromSeconds(2) }; // the output append is slow
        faults.Once(StorageOperation.AppendBlock, FaultKind.Delay, r => r.Uri.Path.Contains("/streams/sd-out-audit/", StringComparison.Ordinal));
        await using (FunctionsApp first = AppHarness.Build(azurite, log, typeof(WithOutput), HostJson, b => b.Services.AddSingleton(faults.CreateOptions(sdkRetries: 0))))
        {
            await first.StartAsync();
            await AppHarness.WaitUntilAsync(() => faults.Total == 1 && Volatile.Read(ref WithOutput.Runs) == 1, "the handler ran and its output append is under way", 60);
            await first.StopAsync(); // SIGTERM during the append
        }

        await using (FunctionsApp second = AppHarness.Build(azurite, log, typeof(WithOutput), HostJson))
        {
            await second.StartAsync();
            await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("sd-out-in", "sd-out")).TotalLag == 0, "the input checkpointed", 60);
            await Task.Delay(500); // a re-run would show by now: the next owner starts at the checkpoint
            await second.StopAsync();
        }

        Assert.Equal(1, Volatile.Read(ref WithOutput.Runs)); // the handler ran once
        Assert.Equal(["only"], (await TestEvents.ReadAllAsync(log, "sd-out-audit")).Select(e => e.Event.Data!.ToString().Trim('"')));
    }

    [Fact]
    public async Task Stopping_with_a_backlog_ends_each_partition_after_its_in_flight_invocation_and_checkpoints_what_was_handled()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "sd-slow-in", Partitions = 16 });
        await using (EventProducerClient producer = log.CreateProducer("sd-slow-in"))
        {
            for (int p = 0; p < 16; p++)
            {
                await producer.SendBatchAsync(Enumerable.Range(0, 40).Select(i => TestEvents.Json($"p{p}-{i}")), p);
            }
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Slow), HostJson);
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(() => Slow.Handled.Values.Sum() >= 32, "32 events handled", 60);

        Slow.Stopping = true;
        var clock = Stopwatch.StartNew();
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(90));
        clock.Stop();

        int afterStop = Slow.StartedAfterStop.Values.Sum();
        output.WriteLine($"stop took {clock.Elapsed.TotalSeconds:0.0} s; invocations started after stop was requested: {afterStop} ({string.Join(", ", Slow.StartedAfterStop.OrderBy(x => x.Key).Select(x => $"p{x.Key}: {x.Value}"))})");
        foreach (PartitionOwnership o in await log.CreateLeaseClient("observer").ListOwnershipAsync("sd-slow", "sd-slow-in"))
        {
            Assert.False(o.IsLeased, $"partition {o.Partition} is still leased after stopping");
            Assert.Equal(Slow.Handled.GetValueOrDefault(o.Partition), (int)(o.NextOffset ?? 0)); // every handled event checkpointed, nothing more
        }

        // Only an invocation already past its start when the stop came may begin: at most one per partition, not the rest of its chunk.
        Assert.All(Slow.StartedAfterStop, x => Assert.True(x.Value <= 1, $"partition {x.Key} started {x.Value} invocations after stop was requested"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"stopping took {clock.Elapsed.TotalSeconds:0.0} s, past the 30 s host shutdown timeout");
    }

    [Fact]
    public async Task A_handler_running_past_the_shutdown_budget_is_cancelled_and_the_app_still_releases_its_partitions()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "sd-stuck-in", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("sd-stuck-in"))
        {
            await producer.SendAsync(TestEvents.Json("s-0"), 0);
            await producer.SendAsync(TestEvents.Json("s-1"), 1);
        }

        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Stuck), HostJson);
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(() => Volatile.Read(ref Stuck.Started) == 2, "both handlers running", 60);

        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2)); // the host's shutdown timeout, short for the test
        var clock = Stopwatch.StartNew();
        await app.StopAsync(budget.Token).WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"stop took {clock.Elapsed.TotalSeconds:0.0} s with a 2 s budget");

        Assert.Equal(2, Volatile.Read(ref Stuck.Cancelled)); // the handlers were told
        foreach (PartitionOwnership o in await log.CreateLeaseClient("observer").ListOwnershipAsync("sd-stuck", "sd-stuck-in"))
        {
            Assert.False(o.IsLeased, $"partition {o.Partition} is still leased after stopping");
            Assert.True(o.NextOffset is null or 0, $"partition {o.Partition}: the cancelled event was checkpointed as handled"); // the next owner handles it
        }

        Assert.Null(await log.TryGetStreamAsync("sd-stuck-in.sd-stuck.deadletter")); // a cancelled invocation is not a failure
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed.TotalSeconds:0.0} s with a 2 s budget");
    }
}
