using FaasEvents.TestSupport;

namespace FaasEvents.Reliability;

/// <summary>Instances of the sample function app running one function, started, killed and paused by a scenario.</summary>
public sealed class AppFleet : IAsyncDisposable
{
    public const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 100, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01",
            "pollInterval": "00:00:00.050", "stateCommitInterval": "00:00:01", "createStreamsIfMissing": true,
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 2, "delayInterval": "00:00:00.100" } } } }
        """;

    private readonly string storage;
    private readonly string container;
    private readonly string function;
    private readonly string name;
    private readonly string hostJson;
    private readonly Random random = new(2026);

    /// <summary>A fleet of instances running <paramref name="function"/> with <paramref name="settings"/> as host.json (default <see cref="HostJson"/>).</summary>
    public AppFleet(string storage, string container, string function, string? settings = null, string? name = null)
    {
        this.storage = storage;
        this.container = container;
        this.function = function;
        this.name = name ?? function;
        hostJson = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        File.WriteAllText(hostJson, settings ?? HostJson);
    }

    /// <summary>Running instances.</summary>
    public List<AppProcess> Instances { get; } = [];

    /// <summary>Instances started so far.</summary>
    public int Started { get; private set; }

    /// <summary>Instances killed so far.</summary>
    public int Killed { get; private set; }

    public AppProcess Start()
    {
        AppProcess app = AppProcess.Start(storage, container, hostJson, $"{name}-{Started++}", "--functions", function);
        Instances.Add(app);
        return app;
    }

    /// <summary>kill -9 of a random instance, replaced by a fresh one.</summary>
    public Task KillOneAndReplaceAsync() => KillAndReplaceAsync(Instances[random.Next(Instances.Count)]);

    /// <summary>kill -9 of <paramref name="victim"/>, and a new instance in its place.</summary>
    public async Task<AppProcess> KillAndReplaceAsync(AppProcess victim)
    {
        victim.KillHard();
        await victim.DisposeAsync();
        Instances.Remove(victim);
        Killed++;
        return Start();
    }

    /// <summary>SIGTERM to a random instance (what a scale-in sends), replaced by a fresh one: its exit code and how long it took to exit.</summary>
    public async Task<(int ExitCode, TimeSpan Took)> TerminateOneAndReplaceAsync(TimeSpan timeout)
    {
        AppProcess victim = Instances[random.Next(Instances.Count)];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int code = await victim.TerminateAsync(timeout);
        TimeSpan took = clock.Elapsed;
        await victim.DisposeAsync();
        Instances.Remove(victim);
        Terminated++;
        Start();
        return (code, took);
    }

    /// <summary>Instances stopped with SIGTERM by <see cref="TerminateOneAndReplaceAsync"/> so far.</summary>
    public int Terminated { get; private set; }

    /// <summary>SIGTERM to every instance; the exit codes.</summary>
    public async Task<int[]> StopAllAsync()
    {
        int[] codes = await Task.WhenAll(Instances.Select(i => i.TerminateAsync(TimeSpan.FromSeconds(30))));
        return codes;
    }

    /// <summary>Output of every instance still held (for diagnostics).</summary>
    public string Output => string.Join("\n---\n", Instances.Select(i => i.Output));

    public async ValueTask DisposeAsync()
    {
        foreach (AppProcess p in Instances)
        {
            await p.DisposeAsync();
        }

        File.Delete(hostJson);
    }
}
