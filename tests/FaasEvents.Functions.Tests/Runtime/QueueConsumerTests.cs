using System.Collections.Concurrent;
using System.Text.Json;
using FaasEvents.Functions.Runtime;
using FaasEvents.Log.DeadLetters;
using FaasEvents.Log.Events;
using FaasEvents.Log.Queues;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// Queue consumption on the in-memory log (issue 17): more instances than partitions, handlers failing at random,
/// instances frozen (SIGSTOP-like: their locks run out and others take their events; when they wake, their outcomes
/// are refused) and never woken (killed). Lock expiry is driven by the lease clock, so it happens exactly when the test
/// moves it.
/// </summary>
[Collection(nameof(QueueConsumerTests))] // the handlers' static state
public class QueueConsumerTests(ITestOutputHelper output)
{
    public sealed record Me(string Name);

    public static class Jobs
    {
        public static readonly ConcurrentDictionary<string, ConcurrentQueue<(string Instance, int Delivery)>> Handled = new();
        public static readonly ConcurrentDictionary<string, TaskCompletionSource> Frozen = new();
        public static readonly ConcurrentQueue<(string Id, int Delivery)> Failures = new();
        public static Func<string, int, bool> Fail { get; set; } = (_, _) => false;
        public static Func<FunctionContext, Task> During { get; set; } = _ => Task.CompletedTask;

        public static void Reset()
        {
            Handled.Clear();
            Frozen.Clear();
            Failures.Clear();
            Fail = (_, _) => false;
            During = _ => Task.CompletedTask;
        }

        [Function("qc-jobs")]
        public static async Task Handle([EventTrigger("qc-jobs", Mode = Consumption.Queue)] LogEvent e, FunctionContext context, Me me)
        {
            if (Frozen.TryGetValue(me.Name, out TaskCompletionSource? gate))
            {
                await gate.Task;
            }

            await During(context);
            int delivery = context.RetryAttempt + 1;
            if (Fail(e.Id, delivery))
            {
                Failures.Enqueue((e.Id, delivery));
                throw new InvalidOperationException($"{e.Id} failed on delivery {delivery}");
            }

            Handled.GetOrAdd(e.Id, _ => new()).Enqueue((me.Name, delivery));
        }
    }

    /// <summary>The window is wider than a partition here: what frozen instances hold would otherwise stop the others at its edge until their locks run out.</summary>
    private static EventLogHostOptions Options(TimeSpan? backoff = null) => new()
    {
        PollInterval = TimeSpan.FromMilliseconds(50),
        MaxPollInterval = TimeSpan.FromMilliseconds(200),
        Retry = RetrySettings.Fixed(10, backoff ?? TimeSpan.Zero),
        Queue = new QueueOptions { LockDuration = TimeSpan.FromSeconds(10), MaxDeliveryCount = 3, MaxConcurrentCalls = 3, Window = 1000 },
    };

    private static (QueueConsumer Consumer, Task Run, CancellationTokenSource Stop) Start(InMemoryRuntime rt, string instance, EventLogHostOptions options, int seed)
    {
        FunctionHost host = rt.Host(typeof(Jobs), "qc-jobs", options, instance, seed, register: s => s.AddSingleton(new Me(instance)));
        var consumer = new QueueConsumer(host, rt.Partitions.Queues);
        var stop = new CancellationTokenSource();
        return (consumer, Task.Run(() => consumer.RunAsync(stop.Token)), stop);
    }

    private static QueueState State(InMemoryRuntime rt, int partition) => rt.Partitions.Queues.StateOf("qc-jobs", "qc-jobs", partition);

    private static long Unsettled(InMemoryRuntime rt) => Enumerable.Range(0, rt.Log.TryGetStream("qc-jobs")!.Partitions)
        .Sum(p => State(rt, p).Unsettled(rt.Log.GetEndOffsetAsync("qc-jobs", p, CancellationToken.None).Result));

    [Fact]
    public async Task Five_instances_on_two_partitions_with_random_failures_a_zombie_and_a_killed_instance_lose_nothing_and_duplicate_only_after_expired_locks()
    {
        Jobs.Reset();
        await using var rt = new InMemoryRuntime();
        rt.Log.CreateStream("qc-jobs", 2);
        var ids = Enumerable.Range(0, 300).Select(i => $"j{i}").ToList();
        string[] poison = ["j7", "j150"];
        var rng = new Random(17);
        var transient = ids.Where(_ => rng.Next(4) == 0).ToHashSet(); // a quarter fail their first delivery
        Jobs.Fail = (id, delivery) => poison.Contains(id) || (transient.Contains(id) && delivery == 1);
        rt.Produce("qc-jobs", ids);

        Jobs.Frozen["zombie"] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Jobs.Frozen["killed"] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The frozen two start first and take their events (they hang in the handler); then the healthy three.
        var instances = new[] { "zombie", "killed" }.Select((name, i) => (Name: name, Run: Start(rt, name, Options(), seed: i + 1))).ToList();
        await AppHarness.WaitUntilAsync(() => instances.All(i => i.Run.Consumer.InFlight > 0), "the frozen instances hold events", 30);
        instances.AddRange(new[] { "i1", "i2", "i3" }.Select((name, i) => (Name: name, Run: Start(rt, name, Options(), seed: i + 3))));

        // Everything but what the frozen two hold gets handled or dead-lettered.
        bool OnlyFrozenLeft() => Enumerable.Range(0, 2).All(p =>
        {
            QueueState s = State(rt, p);
            long end = rt.Log.GetEndOffsetAsync("qc-jobs", p, CancellationToken.None).Result;
            return s.Unsettled(end) == s.InFlight.Count && s.InFlight.All(f => f.Owner is "zombie" or "killed");
        });
        await AppHarness.WaitUntilAsync(OnlyFrozenLeft, "all events but the frozen instances' handled", 60);
        int heldByFrozen = State(rt, 0).InFlight.Count + State(rt, 1).InFlight.Count;
        Assert.InRange(heldByFrozen, 2, 12); // each took up to 2 x maxConcurrentCalls (3 running, hung, and 3 held ready)

        rt.LeaseClock.Advance(TimeSpan.FromSeconds(11)); // their locks run out: the others take those events
        await AppHarness.WaitUntilAsync(() => Unsettled(rt) == 0, "every event settled", 60);

        Jobs.Frozen["zombie"].SetResult(); // the zombie wakes: its handlers finish, its outcomes are refused
        await AppHarness.WaitUntilAsync(() => instances.Single(i => i.Name == "zombie").Run.Consumer.InFlight == 0, "the zombie's handlers finished", 30);
        await Task.Delay(300); // a round or two for the zombie to try to settle
        foreach ((string name, (QueueConsumer _, Task run, CancellationTokenSource stop)) in instances.Where(i => i.Name != "killed"))
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(30));
        }

        // What was lost, duplicated, dead-lettered.
        IReadOnlyList<StoredEvent> letters = rt.Log.Events("qc-jobs.qc-jobs.deadletter");
        var lettered = letters.Select(l => l.Event.Id).ToList();
        var lost = ids.Where(id => !Jobs.Handled.ContainsKey(id) && !lettered.Contains(id)).ToList();
        var duplicated = Jobs.Handled.Where(kv => kv.Value.Count > 1).ToDictionary(kv => kv.Key, kv => kv.Value.ToList());
        output.WriteLine($"300 events, 5 instances on 2 partitions: {Jobs.Handled.Count} handled, {lettered.Count} dead-lettered ({string.Join(", ", lettered)}), {lost.Count} lost, {duplicated.Count} handled twice ({string.Join("; ", duplicated.Select(d => $"{d.Key}: {string.Join(", ", d.Value.Select(v => $"{v.Instance}#{v.Delivery}"))}"))}), {Jobs.Failures.Count} failed deliveries; frozen instances held {heldByFrozen}");
        Assert.Empty(lost);
        Assert.Equal(poison.Order(), lettered.Order()); // each poison event once, nothing else
        Assert.All(duplicated, d => Assert.Contains(d.Value, v => v.Instance is "zombie" or "killed")); // the one allowed kind: a redelivery after a lock ran out
        Assert.All(Jobs.Handled.Keys, id => Assert.DoesNotContain(id, poison));
        Assert.All(transient, id => Assert.Contains(Jobs.Handled[id], v => v.Delivery >= 2)); // released, redelivered, handled
        foreach (StoredEvent letter in letters)
        {
            Assert.Equal(3, Convert.ToInt32(letter.Event.Extensions[DeadLetterAttributes.Attempts], System.Globalization.CultureInfo.InvariantCulture));
            using JsonDocument history = JsonDocument.Parse((string)letter.Event.Extensions[DeadLetterAttributes.History]);
            Assert.Equal(3, history.RootElement.GetArrayLength()); // three deliveries, each with how it ended:
            Assert.All(history.RootElement.EnumerateArray(), h => Assert.Matches("failed on delivery|lock expired", h.GetProperty("outcome").GetString())); // its error, or a frozen instance's lock running out
            Assert.Contains("failed on delivery 3", history.RootElement[2].GetProperty("outcome").GetString(), StringComparison.Ordinal); // the last: the handler's error
        }

        Assert.Equal(0, Unsettled(rt)); // the zombie changed nothing
        (_, (QueueConsumer _, Task killedRun, CancellationTokenSource killedStop)) = instances.Single(i => i.Name == "killed");
        await killedStop.CancelAsync();
        Jobs.Frozen["killed"].SetResult();
        await killedRun.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task An_idle_consumer_is_woken_by_an_append_not_by_its_next_poll()
    {
        Jobs.Reset();
        await using var rt = new InMemoryRuntime();
        rt.Log.CreateStream("qc-jobs", 2);
        EventLogHostOptions options = Options();
        options.PollInterval = options.MaxPollInterval = TimeSpan.FromHours(1); // the next look at the ends: ~70 s of real time here
        rt.Produce("qc-jobs", ["w0"]);
        (QueueConsumer _, Task run, CancellationTokenSource stop) = Start(rt, "i1", options, seed: 1);
        await AppHarness.WaitUntilAsync(() => Jobs.Handled.ContainsKey("w0"), "the first event handled", 30);
        await AppHarness.WaitUntilAsync(() => Unsettled(rt) == 0, "w0 settled", 30);
        await Task.Delay(500); // idle now: waiting for its next poll, an hour away on the runtime clock

        rt.Produce("qc-jobs", ["w1"]); // appended in this process (or announced by the server's notices): the consumer hears of it
        await AppHarness.WaitUntilAsync(() => Jobs.Handled.ContainsKey("w1"), "the event appended while idle handled", 10);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_released_event_comes_back_only_after_its_backoff()
    {
        Jobs.Reset();
        await using var rt = new InMemoryRuntime();
        rt.Log.CreateStream("qc-jobs", 1);
        Jobs.Fail = (id, delivery) => delivery == 1;
        rt.Produce("qc-jobs", ["b1"]);
        (QueueConsumer consumer, Task run, CancellationTokenSource stop) = Start(rt, "i1", Options(backoff: TimeSpan.FromSeconds(5)), seed: 1);

        await AppHarness.WaitUntilAsync(() => Jobs.Failures.Count == 1 && State(rt, 0).InFlight is [{ Owner: null }], "the first delivery failed and was released", 30);
        await Task.Delay(500); // many polls on the runtime clock; the lock clock has not moved
        Assert.False(Jobs.Handled.ContainsKey("b1"));
        QueueInFlight waiting = Assert.Single(State(rt, 0).InFlight);
        Assert.Equal(rt.LeaseClock.GetUtcNow() + TimeSpan.FromSeconds(5), waiting.VisibleAt);

        rt.LeaseClock.Advance(TimeSpan.FromSeconds(5));
        await AppHarness.WaitUntilAsync(() => Jobs.Handled.ContainsKey("b1"), "redelivered after the backoff", 30);
        Assert.Equal(2, Assert.Single(Jobs.Handled["b1"]).Delivery);
        await stop.CancelAsync();
        await run;
        Assert.Equal(1, State(rt, 0).SettledBelow);
    }

    [Fact]
    public async Task A_handler_renews_its_lock_for_long_work_and_learns_when_it_has_lost_it()
    {
        Jobs.Reset();
        await using var rt = new InMemoryRuntime();
        rt.Log.CreateStream("qc-jobs", 1);
        var renewed = new ConcurrentQueue<(DateTimeOffset Before, DateTimeOffset After)>();
        var lostLock = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        Jobs.During = async context =>
        {
            DateTimeOffset before = context.LockedUntil!.Value;
            rt.LeaseClock.Advance(TimeSpan.FromSeconds(6)); // long work: most of the 10 s lock gone
            renewed.Enqueue((before, await context.RenewLockAsync()));
            if (context.Events[0].Event.Id == "r2")
            {
                rt.LeaseClock.Advance(TimeSpan.FromSeconds(11)); // stalled past the renewed lock
                try
                {
                    await context.RenewLockAsync();
                }
                catch (InvalidOperationException ex)
                {
                    lostLock.TrySetResult(ex);
                    throw;
                }
            }
        };
        rt.Produce("qc-jobs", ["r1"]);
        (QueueConsumer consumer, Task run, CancellationTokenSource stop) = Start(rt, "i1", Options(), seed: 1);
        await AppHarness.WaitUntilAsync(() => Jobs.Handled.ContainsKey("r1") && State(rt, 0).SettledBelow == 1, "r1 handled after renewing its lock", 30);
        (DateTimeOffset before, DateTimeOffset after) = Assert.Single(renewed);
        Assert.Equal(before + TimeSpan.FromSeconds(6), after); // 10 s from the renewal

        rt.Produce("qc-jobs", ["r2"]);
        Exception lost = await lostLock.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("was lost", lost.Message, StringComparison.Ordinal);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_consumer_that_cannot_start_says_why_and_starts_once_it_can()
    {
        Jobs.Reset();
        await using var rt = new InMemoryRuntime();
        (QueueConsumer consumer, Task run, CancellationTokenSource stop) = Start(rt, "i1", Options(), seed: 1); // its stream does not exist yet
        await AppHarness.WaitUntilAsync(() => consumer.LastError is not null, "the failed start reported", 30);
        Assert.Contains("qc-jobs", consumer.LastError, StringComparison.Ordinal);

        rt.Log.CreateStream("qc-jobs", 2);
        rt.Produce("qc-jobs", ["late-1", "late-2"]);
        await AppHarness.WaitUntilAsync(() => Jobs.Handled.Count == 2, "both handled once the stream exists", 60);
        await stop.CancelAsync();
        await run;
    }
}
