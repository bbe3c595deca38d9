using System.Diagnostics;
using FaasEvents.Functions;
using FaasEvents.Functions.Runtime;
using FaasEvents.Functions.Storage;
using FaasEvents.Functions.Storage.InMemory;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FaasEvents.Testing;

/// <summary>
/// Runs a function app's functions in memory for unit tests: events you send go through the real runtime (binding,
/// middleware, retries, dead letters, outputs, materialized state) on an in-memory log, with no storage and no
/// network. <see cref="WaitForIdleAsync"/> runs the app until everything sent (and everything its functions wrote in
/// turn) has been handled, moving the fake <see cref="Time"/> forward so retry back-offs pass in milliseconds.
/// </summary>
/// <example>
/// <code>
/// await using FunctionTestHost host = await FunctionTestHost.StartAsync(typeof(OrderFunctions), b => b.Services.AddSingleton&lt;TaxRates&gt;());
/// host.Send("orders", new Order("o-1", "bob", 10m), key: "bob");
/// await host.WaitForIdleAsync();
/// Assert.Single(host.Events&lt;EnrichedOrder&gt;("orders.enriched"));
/// </code>
/// </example>
public sealed class FunctionTestHost : IAsyncDisposable
{
    /// <summary>The first step of fake time while <see cref="WaitForIdleAsync"/> runs; it doubles while nothing happens, up to <see cref="LongestStep"/>.</summary>
    private static readonly TimeSpan FirstStep = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest step: a retry back-off of minutes passes in a few real milliseconds.</summary>
    private static readonly TimeSpan LongestStep = TimeSpan.FromSeconds(5);

    private readonly FunctionsApp app;
    private readonly InMemoryLog log;
    private readonly InMemoryPartitions partitions;
    private readonly InvocationRecorder recorder;
    private readonly EventLogHostOptions options;

    private FunctionTestHost(FunctionsApp app, InMemoryLog log, InMemoryPartitions partitions, InvocationRecorder recorder, FakeTimeProvider time)
    {
        this.app = app;
        this.log = log;
        this.partitions = partitions;
        this.recorder = recorder;
        Time = time;
        options = app.Services.GetRequiredService<FunctionsAppSettings>().Options;
    }

    /// <summary>The app's clock (also what functions get when they ask for a <see cref="TimeProvider"/>); it moves only while <see cref="WaitForIdleAsync"/> runs, or when you advance it.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>The app's services.</summary>
    public IServiceProvider Services => app.Services;

    /// <summary>The functions the app runs.</summary>
    public IReadOnlyList<FunctionDefinition> Functions => app.Functions;

    /// <summary>Every attempt so far, in the order they finished (a retried event shows once per attempt).</summary>
    public IReadOnlyList<Invocation> Invocations => recorder.Snapshot();

    /// <summary>
    /// Starts the functions declared in <paramref name="functions"/> (types holding <c>[Function]</c> methods), configured by
    /// <paramref name="configure"/> as your Program.cs configures the app (services, middleware, <c>ConfigureEventLog</c>).
    /// The app's host.json is read when it is in the test's output directory. Missing streams are created with
    /// <c>defaultPartitions</c> (4) partitions.
    /// </summary>
    public static Task<FunctionTestHost> StartAsync(Type functions, Action<FunctionsApplicationBuilder>? configure = null) => StartAsync([functions], configure);

    /// <inheritdoc cref="StartAsync(Type, Action{FunctionsApplicationBuilder}?)"/>
    public static async Task<FunctionTestHost> StartAsync(IEnumerable<Type> functions, Action<FunctionsApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(functions);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var log = new InMemoryLog(time);
        var partitions = new InMemoryPartitions(TimeProvider.System, queueClock: time); // leases on real time: one instance owns everything and never loses it; a queue's backoffs pass on the fake clock
        var recorder = new InvocationRecorder();
        FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(["--port", "0", "--instance-id", "test-host"]);
        builder.Services.AddSingleton<IFunctionStorage>(new InMemoryFunctionStorage(log, partitions));
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddSingleton(recorder);
        builder.UseMiddleware<InvocationRecorder>(); // first: outermost, sees what the app's own middleware let through
        builder.AddFunctions([.. functions]);
        configure?.Invoke(builder);
        builder.ConfigureEventLog(o =>
        {
            o.CreateStreamsIfMissing = true;
            o.BatchCheckpointFrequency = 1; // a checkpoint per batch: WaitForIdleAsync knows what was handled
            o.StateCommitInterval = EventLogHostOptions.StateCommitIntervalRange.Min; // a materializer's state and offset commit together
        });
        FunctionsApp app = builder.Build();
        await app.StartAsync();
        var host = new FunctionTestHost(app, log, partitions, recorder, time);
        await host.WaitUntilAsync(host.Claimed, "the functions to claim their partitions", TimeSpan.FromSeconds(30));
        return host;
    }

    /// <summary>Appends one event with <paramref name="data"/> as its JSON payload; returns where it landed.</summary>
    /// <param name="stream">The stream (created with the default partition count if missing).</param>
    /// <param name="data">The payload, serialised as the runtime binds it (System.Text.Json, web defaults); null for none (a tombstone to a materializer).</param>
    /// <param name="key">The partition key (events with the same key keep their order); null for round-robin.</param>
    /// <param name="type">The CloudEvents type; default: the payload's type name.</param>
    /// <param name="id">The CloudEvents id; default: a new GUID.</param>
    public EventPosition Send(string stream, object? data, string? key = null, string? type = null, string? id = null)
    {
        var e = new LogEvent(id ?? Guid.NewGuid().ToString(), "/test", type ?? data?.GetType().Name ?? "event")
        {
            PartitionKey = key,
            DataContentType = data is null ? null : "application/json",
            Data = data is null ? null : BinaryData.FromObjectAsJson(data, FunctionInvoker.Json),
        };
        return Send(stream, e)[0];
    }

    /// <summary>Appends events as they are (your ids, keys, types, extensions); returns where they landed.</summary>
    public IReadOnlyList<EventPosition> Send(string stream, params LogEvent[] events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (log.TryGetStream(stream) is null)
        {
            log.CreateStream(stream, options.DefaultPartitions);
        }

        return log.Append(stream, events);
    }

    /// <summary>
    /// Runs the app until every function has handled everything in its trigger stream, including what other functions
    /// wrote there meanwhile, and no attempt is in flight. Meanwhile fake time moves on every real millisecond: 50 ms
    /// at first, doubling while nothing happens (up to 5 s), so retry back-offs of minutes pass at once.
    /// Throws <see cref="TimeoutException"/> naming what is still unhandled after <paramref name="timeout"/> (default 10 s of real time).
    /// </summary>
    public Task WaitForIdleAsync(TimeSpan? timeout = null) => WaitUntilAsync(IdleNow, "every function to handle everything sent", timeout ?? TimeSpan.FromSeconds(10));

    /// <summary>Every event in <paramref name="stream"/> as its readers see it (a copy that landed twice shows once), partition by partition in offset order.</summary>
    public IReadOnlyList<StoredEvent> Events(string stream)
    {
        int count = log.TryGetStream(stream)?.Partitions ?? 0;
        var all = new List<StoredEvent>();
        for (int p = 0; p < count; p++)
        {
            all.AddRange(ReadAll(stream, p));
        }

        return all;
    }

    /// <summary>The payloads of every event in <paramref name="stream"/>, deserialised as the runtime binds them (null data gives default).</summary>
    public IReadOnlyList<T?> Events<T>(string stream) => [.. Events(stream).Select(e => e.Event.Data is null ? default : e.Event.Data.ToObjectFromJson<T>(FunctionInvoker.Json))];

    /// <summary>The dead letters <paramref name="function"/> wrote: copies of the events it gave up on, with <c>dlqerror</c>, <c>dlqattempts</c> and where the event was.</summary>
    public IReadOnlyList<StoredEvent> DeadLetters(string function) => Events(options.DeadLetterStreamFor(Function(function)));

    /// <summary>A materializer's current state of <paramref name="key"/>, or default when it has none (absent or deleted).</summary>
    public T? State<T>(string materializer, string key)
    {
        FunctionDefinition f = Function(materializer);
        if (!f.IsMaterializer)
        {
            throw new InvalidOperationException($"'{materializer}' is not a materializer (it is a {f.Kind} function).");
        }

        FunctionHost host = app.Services.GetRequiredService<FunctionsRuntime>().HostOf(materializer) ?? throw new InvalidOperationException($"'{materializer}' is not running.");
        foreach (MaterializedTable table in host.Tables.Values)
        {
            if (table.Get(key) is { } value)
            {
                return (T)value;
            }
        }

        return default;
    }

    /// <summary>Stops the app as a scale-in would (in-flight work finishes or is cancelled, partitions released), moving fake time meanwhile; at most a few real seconds.</summary>
    public async ValueTask DisposeAsync()
    {
        using var hurry = new CancellationTokenSource(TimeSpan.FromSeconds(2)); // then invocations still running are cancelled
        Task stop = app.StopAsync(hurry.Token);
        while (!stop.IsCompleted)
        {
            Time.Advance(FirstStep); // the runtime's shutdown budget runs on the app's clock
            await Task.WhenAny(stop, Task.Delay(1));
        }

        await stop;
        await app.DisposeAsync();
    }

    private FunctionDefinition Function(string name) => app.Functions.FirstOrDefault(f => f.Name == name)
        ?? throw new ArgumentException($"The app has no function '{name}' (it has: {string.Join(", ", app.Functions.Select(f => f.Name))}).", nameof(name));

    private List<StoredEvent> ReadAll(string stream, int partition)
    {
        var events = new List<StoredEvent>();
        IAsyncEnumerator<EventBlock> blocks = log.ReadAsync(stream, partition, new ReadOptions { Follow = false, Deduplicate = true }, CancellationToken.None).GetAsyncEnumerator();
        try
        {
            while (blocks.MoveNextAsync().AsTask().GetAwaiter().GetResult()) // the in-memory log completes synchronously
            {
                events.AddRange(blocks.Current.Events);
            }
        }
        finally
        {
            blocks.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        return events;
    }

    /// <summary>What is not handled yet, one line per function and partition; empty when idle.</summary>
    private List<string> Pending()
    {
        var pending = new List<string>();
        foreach (FunctionDefinition f in app.Functions)
        {
            int count = log.TryGetStream(f.Stream)?.Partitions ?? 0;
            for (int p = 0; p < count; p++)
            {
                long end = log.GetEndOffsetAsync(f.Stream, p, CancellationToken.None).GetAwaiter().GetResult();
                if (f.IsQueue)
                {
                    long unsettled = partitions.Queues.StateOf(f.ConsumerGroup, f.Stream, p).Unsettled(end);
                    if (unsettled > 0)
                    {
                        pending.Add($"{f.Name}: {f.Stream} partition {p} has {unsettled} unsettled event(s) below offset {end} (queue)");
                    }

                    continue;
                }

                long handled = partitions.CheckpointOf(f.ConsumerGroup, f.Stream, p) ?? 0;
                if (handled < end)
                {
                    pending.Add($"{f.Name}: {f.Stream} partition {p} handled up to offset {handled} of {end}");
                }
            }
        }

        return pending;
    }

    private bool IdleNow() => recorder.InFlight == 0 && Pending().Count == 0;

    private bool Claimed()
    {
        FunctionsRuntime runtime = app.Services.GetRequiredService<FunctionsRuntime>();
        return runtime.Balancers.All(b => b.Owned.Count >= (log.TryGetStream(b.Function.Stream)?.Partitions ?? 0));
    }

    private async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        int appends = -1, quiet = 0, attempts = -1;
        TimeSpan step = FirstStep;
        while (true)
        {
            // Done when the condition held on two looks in a row with nothing appended in between.
            if (condition() && log.Appends == appends)
            {
                if (++quiet >= 2)
                {
                    return;
                }
            }
            else
            {
                quiet = 0;
            }

            int appended = log.Appends;
            if (sw.Elapsed > timeout)
            {
                List<string> pending = Pending();
                throw new TimeoutException($"Waited {timeout.TotalSeconds:0.#} s for {what}; still pending: {(pending.Count == 0 ? $"{recorder.InFlight} invocation(s) in flight" : string.Join("; ", pending))}.");
            }

            int seen = recorder.Count;
            step = seen != attempts || appended != appends ? FirstStep : TimeSpan.FromTicks(Math.Min(step.Ticks * 2, LongestStep.Ticks));
            attempts = seen;
            appends = appended;
            Time.Advance(step);
            await Task.Delay(1);
        }
    }
}
