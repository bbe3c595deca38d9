using System.Collections.Concurrent;
using CloudNative.CloudEvents;
using FaasEvents.Log.Events;
using Microsoft.Extensions.Time.Testing;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>Whole function apps on the in-memory store (these ran on Azurite before the storage seams existed; the assertions are the same).</summary>
public sealed class RuntimeTests : IAsyncLifetime
{
    private readonly InMemoryRuntime runtime = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await runtime.DisposeAsync();

    public sealed record Item(string Id, int N);

    public sealed record Seen(string Id, int Partition, long Offset);

    public static class Recorder
    {
        public static readonly ConcurrentQueue<(string Function, string Id, int Partition, long Offset, int Attempt)> Calls = new();
        public static readonly ConcurrentDictionary<string, int> Middleware = new();

        public static List<(string Function, string Id, int Partition, long Offset, int Attempt)> Of(string function) => Calls.Where(c => c.Function == function).ToList();
    }

    public sealed class CountingMiddleware : IFunctionsWorkerMiddleware
    {
        public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
        {
            Recorder.Middleware.AddOrUpdate(context.FunctionDefinition.Name, 1, (_, n) => n + 1);
            await next(context);
        }
    }

    public static class OrderedFunctions
    {
        [Function("rt-poco")]
        [EventOutput("rt-seen")]
        public static Seen Poco([EventTrigger("rt-in")] Item item, FunctionContext context)
        {
            Recorder.Calls.Enqueue(("rt-poco", item.Id, context.Partition, context.Offset, context.RetryAttempt));
            return new Seen(item.Id, context.Partition, context.Offset);
        }

        [Function("rt-batch")]
        public static void Batch([EventTrigger("rt-in")] IReadOnlyList<CloudEvent> events, FunctionContext context)
        {
            Assert.Equal(events.Count, context.Events.Count);
            for (int i = 0; i < events.Count; i++)
            {
                Recorder.Calls.Enqueue(("rt-batch", events[i].Id!, context.Partition, context.Events[i].Offset, 0));
            }
        }
    }

    [Fact]
    public async Task Events_are_handled_in_offset_order_with_bindings_outputs_and_middleware()
    {
        runtime.Log.CreateStream("rt-in", 3);
        runtime.Log.CreateStream("rt-seen", 3);
        runtime.Log.Append("rt-in", Enumerable.Range(0, 300).Select(i => Json($"e{i}", i, key: $"k{i % 7}")).ToList());

        await using FunctionsApp app = AppHarness.BuildInMemory(runtime, typeof(OrderedFunctions), configure: b => b.UseMiddleware<CountingMiddleware>());
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(() => Recorder.Of("rt-poco").Select(c => c.Id).Distinct().Count() == 300 && Recorder.Of("rt-batch").Select(c => c.Id).Distinct().Count() == 300, "both functions saw 300 events");
        await app.StopAsync();

        foreach (string fn in new[] { "rt-poco", "rt-batch" })
        {
            foreach (IGrouping<int, (string Function, string Id, int Partition, long Offset, int Attempt)> part in Recorder.Of(fn).GroupBy(c => c.Partition))
            {
                Assert.Equal(Enumerable.Range(0, part.Count()).Select(i => (long)i), part.Select(c => c.Offset)); // strict offset order, no gaps, no repeats
            }
        }

        Assert.Equal(300, Recorder.Middleware["rt-poco"]); // one invocation per event
        Assert.InRange(Recorder.Middleware["rt-batch"], 30, 300); // batches of at most maxBatchSize (10)
        IReadOnlyList<StoredEvent> seen = runtime.Log.Events("rt-seen");
        Assert.Equal(300, seen.Count); // every output appended once
        Assert.All(seen, s => Assert.Equal("rt-poco.output", s.Event.Type));
        Assert.All(seen, s => Assert.NotNull(s.Event.PartitionKey)); // outputs keep the input's key
        Assert.Equal(0, runtime.Lag("rt-poco", "rt-in")); // checkpointed everything
        for (int p = 0; p < 3; p++)
        {
            Assert.NotNull((await runtime.Store("x").GetCheckpointAsync("rt-poco", "rt-in", p, CancellationToken.None))!.Position); // with a resume hint
        }

        Assert.All(await runtime.Store("x").ListOwnershipAsync("rt-poco", "rt-in", CancellationToken.None), o => Assert.False(o.IsLeased)); // released on stop
    }

    public static class PoisonFunctions
    {
        [Function("rt-poison")]
        public static void Run([EventTrigger("rt-p")] Item item, FunctionContext context)
        {
            Recorder.Calls.Enqueue(("rt-poison", item.Id, context.Partition, context.Offset, context.RetryAttempt));
            if (item.N < 0)
            {
                throw new InvalidOperationException($"item {item.Id} is poison");
            }
        }
    }

    [Fact]
    public async Task Poison_is_retried_on_the_clock_then_dead_lettered_and_the_partition_moves_on()
    {
        runtime.Log.CreateStream("rt-p", 1);
        runtime.Log.Append("rt-p", [Json("good-1", 1), Json("bad", -1), Json("good-2", 2)]);

        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using FunctionsApp app = AppHarness.BuildInMemory(runtime, typeof(PoisonFunctions), configure: b => b.Services.AddFake(clock));
        await app.StartAsync();
        int Tries() => Recorder.Of("rt-poison").Count(c => c.Id == "bad");

        await AppHarness.WaitUntilAsync(() => Tries() == 1, "the first try failed");
        await Task.Delay(1000);
        Assert.Equal(1, Tries()); // the 10-minute retry delay is on the injected clock: no retry yet
        clock.Advance(TimeSpan.FromMinutes(10));
        await AppHarness.WaitUntilAsync(() => Tries() == 2, "the first retry");
        Assert.DoesNotContain(Recorder.Of("rt-poison"), c => c.Id == "good-2"); // order kept: nothing passes the poison while it is retried
        clock.Advance(TimeSpan.FromMinutes(10));
        await AppHarness.WaitUntilAsync(() => Recorder.Of("rt-poison").Any(c => c.Id == "good-2"), "the partition moved on");
        Assert.Equal([0, 1, 2], Recorder.Of("rt-poison").Where(c => c.Id == "bad").Select(c => c.Attempt));

        await AppHarness.WaitUntilAsync(() => runtime.Lag("rt-poison", "rt-p") == 0, "checkpoint past the poison");
        await app.StopAsync();
        StoredEvent letter = Assert.Single(runtime.Log.Events("rt-p.rt-poison.deadletter"));
        Assert.Equal("bad", letter.Event.Id);
        Assert.Equal(3, letter.Event.Extensions["dlqattempts"]);
        Assert.Equal("1", letter.Event.Extensions["dlqoffset"]);
        Assert.Equal(0, letter.Event.Extensions["dlqpartition"]);
        Assert.Contains("item bad is poison", (string)letter.Event.Extensions["dlqerror"], StringComparison.Ordinal);
        Assert.Equal("{\"id\":\"bad\",\"n\":-1}", letter.Event.Data!.ToString()); // the original data, intact: nothing lost
    }

    public static class NeedsMissingStream
    {
        [Function("rt-missing")]
        public static void Run([EventTrigger("no-such-stream")] string s) { }
    }

    public interface IUnregistered;

    public static class NeedsService
    {
        [Function("rt-di")]
        public static void Run([EventTrigger("rt-in")] string s, IUnregistered service) { }
    }

    [Fact]
    public async Task Missing_stream_and_missing_service_stop_start_up_with_a_clear_message()
    {
        await using FunctionsApp missing = AppHarness.BuildInMemory(runtime, typeof(NeedsMissingStream));
        FunctionIndexingException ex = await Assert.ThrowsAsync<FunctionIndexingException>(() => missing.StartAsync());
        Assert.Contains("function 'rt-missing': its trigger stream 'no-such-stream' does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Contains("createStreamsIfMissing", ex.Message, StringComparison.Ordinal);

        await using FunctionsApp di = AppHarness.BuildInMemory(runtime, typeof(NeedsService));
        FunctionIndexingException diEx = await Assert.ThrowsAsync<FunctionIndexingException>(() => di.StartAsync());
        Assert.Contains("parameter 'service' of type IUnregistered", diEx.Message, StringComparison.Ordinal);
    }

    private static LogEvent Json(string id, int n, string? key = null) => new(id, "/tests", "item")
    {
        PartitionKey = key,
        DataContentType = "application/json",
        Data = BinaryData.FromString($"{{\"id\":\"{id}\",\"n\":{n}}}"),
    };
}
