using FaasEvents.Functions.Runtime;
using FaasEvents.Functions.Storage.InMemory;
using FaasEvents.Log.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// Runs functions on the in-memory log and checkpoint store: no storage, no sockets. Two clocks: <see cref="Time"/>
/// (retries, polling, backoff) runs about 50 times faster than real time on its own; <see cref="LeaseClock"/> stands
/// still unless a test moves it, so leases expire exactly when a test says so.
/// </summary>
internal sealed class InMemoryRuntime : IAsyncDisposable
{
    private readonly CancellationTokenSource running = new();
    private readonly Task ticking;

    public InMemoryRuntime()
    {
        Partitions = new InMemoryPartitions(LeaseClock);
        Log = new InMemoryLog(Time);
        ticking = Task.Run(async () =>
        {
            while (!running.IsCancellationRequested)
            {
                Time.Advance(TimeSpan.FromMilliseconds(50));
                await Task.Delay(1);
            }
        });
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public FakeTimeProvider LeaseClock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public InMemoryLog Log { get; }

    public InMemoryPartitions Partitions { get; }

    /// <summary>Options for fast tests: short leases and intervals, retries without delay.</summary>
    public static EventLogHostOptions FastOptions(int maxBatchSize = 100) => new()
    {
        MaxBatchSize = maxBatchSize,
        LeaseDuration = TimeSpan.FromSeconds(15),
        LoadBalancingInterval = TimeSpan.FromSeconds(1),
        Retry = RetrySettings.Fixed(2, TimeSpan.Zero),
    };

    /// <summary>The host of function <paramref name="name"/> declared in <paramref name="functions"/>, acting as <paramref name="instance"/>.</summary>
    public FunctionHost Host(Type functions, string name, EventLogHostOptions? options = null, string instance = "instance-1", int seed = 1, InMemoryPartitions? partitions = null, Action<IServiceCollection>? register = null)
    {
        FunctionDefinition f = FunctionDiscovery.Discover([functions]).Single(d => d.Name == name);
        IServiceCollection collection = new ServiceCollection().AddLogging();
        register?.Invoke(collection);
        ServiceProvider services = collection.BuildServiceProvider();
        return new FunctionHost
        {
            Function = f,
            Source = Log,
            Checkpoints = new InMemoryCheckpointStore(partitions ?? Partitions, instance),
            Outputs = Log,
            Invoker = new FunctionInvoker(f, services, [], Time),
            Options = options ?? FastOptions(),
            Concurrency = new SemaphoreSlim(8),
            Time = Time,
            LeaseClock = LeaseClock,
            Logger = NullLogger.Instance,
            Random = new Random(seed),
        };
    }

    /// <summary>Appends events with the given ids (keyed by <paramref name="key"/> when set).</summary>
    public void Produce(string stream, IEnumerable<string> ids, string? key = null) =>
        Log.Append(stream, ids.Select(id => new LogEvent(id, "/test", "test") { PartitionKey = key }).ToList());

    /// <summary>The group's checkpoint of a partition (null when none).</summary>
    public long? Checkpoint(string group, string stream, int partition) => Partitions.CheckpointOf(group, stream, partition);

    /// <summary>A checkpoint store acting as <paramref name="instance"/> (to look at leases and checkpoints as an observer).</summary>
    public InMemoryCheckpointStore Store(string instance) => new(Partitions, instance);

    /// <summary>End offsets minus checkpoints over every partition of <paramref name="stream"/> for <paramref name="group"/>.</summary>
    public long Lag(string group, string stream) =>
        Log.GetPartitionsAsync(stream, CancellationToken.None).Result.Sum(p => p.EndOffset - (Checkpoint(group, stream, p.Partition) ?? 0));

    /// <summary>Waits (real time, at most 10 s) until <paramref name="condition"/> holds.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(2);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await running.CancelAsync();
        await ticking;
        running.Dispose();
    }
}
