using System.Collections.Concurrent;
using FaasEvents.Functions.Storage;
using FaasEvents.Functions.Storage.Blob;
using FaasEvents.Log;
using FaasEvents.Log.Streams;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>Runs every function of the app: checks streams at start-up, balances partitions, stops gracefully.</summary>
internal sealed class FunctionsRuntime : IHostedService
{
    private readonly IServiceProvider services;
    private readonly FunctionsAppSettings settings;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<string, EventLogClient> clients = new(StringComparer.Ordinal);
    private readonly IFunctionStorage storage;
    private readonly List<PartitionBalancer> balancers = [];
    private readonly List<QueueConsumer> consumers = [];
    private readonly List<FunctionHost> hosts = [];
    private readonly CancellationTokenSource stopping = new();
    private Task running = Task.CompletedTask;

    /// <summary>What a stop keeps of the host's shutdown timeout for checkpoints and lease releases after cancelling invocations.</summary>
    private static readonly TimeSpan ShutdownReserve = TimeSpan.FromSeconds(5);

    public FunctionsRuntime(IServiceProvider services, FunctionsAppSettings settings, ILogger<FunctionsRuntime> logger)
    {
        this.services = services;
        this.settings = settings;
        this.logger = logger;
        storage = services.GetService<IFunctionStorage>() ?? new BlobFunctionStorage(ClientFor); // tests register the in-memory one
    }

    public IReadOnlyList<PartitionBalancer> Balancers => balancers;

    /// <summary>The queue-consumed functions this instance runs.</summary>
    public IReadOnlyList<QueueConsumer> QueueConsumers => consumers;

    /// <summary>The running host of a function, by name (null if this instance does not run it).</summary>
    internal FunctionHost? HostOf(string name) => hosts.FirstOrDefault(h => h.Function.Name == name);

    /// <summary>The client for a storage setting name (the setting's value is read from configuration, never logged).</summary>
    public EventLogClient ClientFor(string settingName) => clients.GetOrAdd(settingName, name =>
    {
        IConfiguration config = services.GetRequiredService<IConfiguration>();
        string? container = config[FaasSettings.Container];
        // Storage runs on real time (leases and polling are storage-side); retries and balancing use the injected TimeProvider.
        // A BlobClientOptions registered in DI tunes every storage client (retries, transport; tests attach fault injection).
        var options = new EventLogClientOptions { StorageOptions = services.GetService<Azure.Storage.Blobs.BlobClientOptions>() };
        if (!string.IsNullOrEmpty(container))
        {
            options.ContainerName = container;
        }

        // The identity outputs are appended as (single writer): FAAS_IDENTITY, else the app's name.
        options.Identity = config[FaasSettings.Identity] is { Length: > 0 } identity ? identity : System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name;
        options.ServerUrl = FaasSettings.ParseServerUrl(config[FaasSettings.ServerUrl]);
        options.ServerApiKey = FaasSettings.ParseServerApiKey(config[FaasSettings.ServerApiKey]);
        string? value = config[name];
        if (string.IsNullOrWhiteSpace(value) && name != FunctionsDefaults.ConnectionSetting)
        {
            // Only the default setting falls back to local development storage; a named one that is missing is a mistake.
            string users = string.Join(", ", settings.Functions.Where(f => f.Connection == name).Select(f => $"'{f.Name}'"));
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"setting '{name}' (the Connection of function {users}) is not set: set it to a storage connection string or an https:// blob endpoint.");
        }

        return EventLogClient.FromSetting(value, options);
    });

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ColdStart.Mark("runtime");
        EventLogHostOptions options = settings.Options;
        logger.LogInformation("Instance {Instance}: {Count} function(s); extensions.eventLog: {Options}", settings.InstanceId, settings.Functions.Count, options);
        foreach (FunctionDefinition f in settings.Functions)
        {
            logger.LogInformation("  {Name}: {Kind} on stream '{Stream}' as consumer group '{Group}'{Output}; storage {Storage}", f.Name, f.Kind, f.Stream, f.ConsumerGroup, f.OutputStream is null ? "" : $", output to '{f.OutputStream}'", storage.Describe(f.Connection));
        }

        await EnsureStreamsAsync(cancellationToken);
        ColdStart.Mark("streams");
        var concurrency = new SemaphoreSlim(options.MaxConcurrentPartitions);
        TimeProvider time = services.GetRequiredService<TimeProvider>();
        ILoggerFactory loggers = services.GetRequiredService<ILoggerFactory>();
        foreach (FunctionDefinition f in settings.Functions)
        {
            var invoker = new FunctionInvoker(f, services, settings.Middleware, time);
            var host = new FunctionHost
            {
                Function = f,
                Source = storage.Source(f.Connection),
                Checkpoints = storage.Checkpoints(f.Connection, settings.InstanceId),
                Outputs = storage.Outputs(f.Connection),
                Invoker = invoker,
                Options = options,
                Concurrency = concurrency,
                Time = time,
                LeaseClock = storage.LeaseClock,
                Logger = loggers.CreateLogger("FaasEvents.Functions." + f.Name),
                Serializer = services.GetService<IStateSerializer>() ?? new JsonStateSerializer(),
            };
            hosts.Add(host);
            if (f.IsQueue)
            {
                consumers.Add(new QueueConsumer(host, storage.Queues(f.Connection)));
            }
            else
            {
                balancers.Add(new PartitionBalancer(host));
            }
        }

        // One watch of the server's append notices per trigger stream wakes that stream's idle partitions at once.
        IEnumerable<Task> watches = hosts.DistinctBy(h => (h.Function.Connection, h.Function.Stream)).Select(h => Task.Run(() => FollowNoticesAsync(h), CancellationToken.None));
        running = Task.WhenAll(balancers.Select(b => Task.Run(() => b.RunAsync(stopping.Token), CancellationToken.None))
            .Concat(consumers.Select(c => Task.Run(() => c.RunAsync(stopping.Token), CancellationToken.None)))
            .Concat(watches));
    }

    /// <summary>Best effort: a failure of the notices (never expected) is logged and costs only latency, never the stop.</summary>
    private async Task FollowNoticesAsync(FunctionHost h)
    {
        try
        {
            await h.Source.FollowAppendNoticesAsync(h.Function.Stream, problem => logger.LogWarning("{Problem}", problem), stopping.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning("append notices of stream '{Stream}' stopped ({Error}); its partitions poll", h.Function.Stream, ex.Message);
        }
    }

    /// <summary>
    /// Stops after each partition's in-flight invocation, checkpoints and releases every lease, within the host's
    /// shutdown timeout: invocations still running <see cref="ShutdownReserve"/> before it ends (or when the host's
    /// token fires) are cancelled through their CancellationToken and left unchecked for the next owner.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Stopping: finishing in-flight invocations, checkpointing and releasing partitions ...");
        TimeSpan timeout = services.GetService<Microsoft.Extensions.Options.IOptions<HostOptions>>()?.Value.ShutdownTimeout ?? TimeSpan.FromSeconds(30);
        using var hurry = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        hurry.CancelAfter(timeout > ShutdownReserve * 2 ? timeout - ShutdownReserve : timeout / 2);
        await stopping.CancelAsync();
        using (hurry.Token.Register(() => consumers.ForEach(c => c.CancelInvocations())))
        {
            await running; // queue consumers finish their handlers and settle them here
        }

        await Task.WhenAll(balancers.Select(b => b.StopAsync(hurry.Token)));
        foreach (FunctionHost h in hosts)
        {
            await h.Outputs.DisposeAsync();
        }

        logger.LogInformation("Stopped cleanly.");
    }

    /// <summary>A changelog is the materializer's own output: created co-partitioned with its trigger stream, as an entity stream.</summary>
    private async Task EnsureChangelogsAsync(CancellationToken cancellationToken)
    {
        foreach (FunctionDefinition f in settings.Functions.Where(f => f.ChangelogStream is not null))
        {
            if (await storage.TryGetStreamAsync(f.Connection, f.ChangelogStream!, cancellationToken) is not null || await storage.TryGetStreamAsync(f.Connection, f.Stream, cancellationToken) is not { } trigger)
            {
                continue;
            }

            try
            {
                await storage.CreateStreamAsync(f.Connection, new StreamDefinition { Name = f.ChangelogStream!, Partitions = trigger.Partitions, Kind = StreamKind.Entities }, cancellationToken);
                logger.LogInformation("Created changelog stream '{Stream}' ({Partitions} partitions, entities) for materializer {Function}", f.ChangelogStream, trigger.Partitions, f.Name);
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.StreamAlreadyExists)
            {
            }
        }
    }

    private async Task EnsureStreamsAsync(CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (settings.Options.DeadLetterMode == DeadLetterMode.DeadLetter)
        {
            // Checked now, not at the first poison event: a name that can never be created would block its partition then.
            foreach (FunctionDefinition f in settings.Functions)
            {
                string deadLetter = settings.Options.DeadLetterStreamFor(f);
                try
                {
                    StreamDefinition.ValidateName(deadLetter, "dead-letter stream");
                }
                catch (EventLogException ex)
                {
                    problems.Add($"function '{f.Name}': its dead-letter stream would be '{deadLetter}' ({deadLetter.Length} characters): {ex.Message} Set a shorter pattern in extensions.eventLog.deadLetter.stream in host.json (e.g. \"{{group}}.dlq\").");
                }
            }
        }

        var needed = settings.Functions.Select(f => (Stream: f.Stream, Connection: f.Connection, Function: f.Name, Role: "trigger"))
            .Concat(settings.Functions.Where(f => f.Output is not null).Select(f => (Stream: f.Output!.Stream, Connection: f.Output.Connection ?? f.Connection, Function: f.Name, Role: "output")))
            .DistinctBy(x => (x.Stream, x.Connection));
        // Looked up side by side: at a cold start every request before the first claim is latency.
        var wanted = needed.ToList();
        StreamDefinition?[] existing = await Task.WhenAll(wanted.Select(n => storage.TryGetStreamAsync(n.Connection, n.Stream, cancellationToken)));
        foreach (((string stream, string connection, string function, string role), StreamDefinition? definition) in wanted.Zip(existing))
        {
            if (definition is not null)
            {
                continue;
            }

            if (!settings.Options.CreateStreamsIfMissing)
            {
                problems.Add($"function '{function}': its {role} stream '{stream}' does not exist in {storage.Describe(connection)}. Create it (faas streams create {stream} --partitions N) or set extensions.eventLog.createStreamsIfMissing in host.json.");
                continue;
            }

            try
            {
                // Latest-wins materializers read entity streams (compaction keeps what they need); a fold over history does not.
                StreamKind kind = settings.Functions.Any(f => f.IsMaterializer && !f.FoldsHistory && f.Stream == stream) && !settings.Functions.Any(f => f.FoldsHistory && f.Stream == stream) ? StreamKind.Entities : StreamKind.Events;
                await storage.CreateStreamAsync(connection, new StreamDefinition { Name = stream, Partitions = settings.Options.DefaultPartitions, Kind = kind }, cancellationToken);
                logger.LogInformation("Created stream '{Stream}' with {Partitions} partitions (createStreamsIfMissing)", stream, settings.Options.DefaultPartitions);
            }
            catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.StreamAlreadyExists)
            {
            }
        }

        if (problems.Count > 0)
        {
            throw new FunctionIndexingException(problems);
        }

        await EnsureChangelogsAsync(cancellationToken);
        foreach (FunctionDefinition f in settings.Functions.Where(f => f.FoldsHistory))
        {
            if (await storage.TryGetStreamAsync(f.Connection, f.Stream, cancellationToken) is { Kind: StreamKind.Entities })
            {
                logger.LogWarning("Materializer {Function} folds history ([CurrentState]) but its stream '{Stream}' is an entity stream: compaction keeps only the latest event per key, so a replay (or an instance lagging behind a compaction) would miss events this fold needs. Use an events stream for it, or a latest-wins materializer.", f.Name, f.Stream);
            }
        }
    }
}
