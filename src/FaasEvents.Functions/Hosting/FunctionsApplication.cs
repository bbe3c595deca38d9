using System.Globalization;
using System.Reflection;
using System.Text.Json;
using FaasEvents.Functions.Runtime;
using FaasEvents.Log;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace FaasEvents.Functions;

/// <summary>Entry point of a function app, as in Azure Functions: <c>FunctionsApplication.CreateBuilder(args)</c>.</summary>
public static class FunctionsApplication
{
    /// <summary>
    /// Creates a builder. Recognised arguments: <c>--list</c> (print the functions as JSON and exit),
    /// <c>--port N</c> (health/metrics HTTP port; env <c>FAAS_FUNCTIONS_PORT</c>; default 7071; 0 = any free),
    /// <c>--instance-id ID</c> (env <c>FAAS_INSTANCE_ID</c>), <c>--host-json PATH</c> (env <c>FAAS_HOST_JSON</c>),
    /// <c>--functions a,b</c> (run only these; env <c>FAAS_FUNCTIONS</c>), <c>--healthcheck</c> (probe a running
    /// instance's /healthz on the port and exit 0/1, for container HEALTHCHECKs). Other arguments go to configuration.
    /// </summary>
    public static FunctionsApplicationBuilder CreateBuilder(string[] args) => new(args ?? []);
}

/// <summary>Configures a function app: services, configuration, logging and middleware.</summary>
public sealed class FunctionsApplicationBuilder
{
    private readonly WebApplicationBuilder web;
    private readonly List<Type> middleware = [];
    private readonly List<Type> functionTypes = [];
    private readonly List<Action<EventLogHostOptions>> configureEventLog = [];
    private readonly AppArguments arguments;

    internal FunctionsApplicationBuilder(string[] args)
    {
        arguments = AppArguments.Parse(args);
        web = WebApplication.CreateBuilder(arguments.Rest);
        web.Logging.ClearProviders();
        web.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = false; // multi-line messages (event-display) stay readable
            o.TimestampFormat = "HH:mm:ss.fff ";
        });

        // The host logs a start-up failure with its whole stack trace; FunctionsApp.RunAsync prints it as one line instead.
        web.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        web.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
    }

    /// <summary>Services for DI into functions and middleware.</summary>
    public IServiceCollection Services => web.Services;

    /// <summary>Configuration (environment variables, appsettings.json, command line).</summary>
    public ConfigurationManager Configuration => web.Configuration;

    /// <summary>Logging.</summary>
    public ILoggingBuilder Logging => web.Logging;

    /// <summary>Adds middleware that runs around every invocation, in the order added.</summary>
    public FunctionsApplicationBuilder UseMiddleware<TMiddleware>()
        where TMiddleware : class, IFunctionsWorkerMiddleware
    {
        middleware.Add(typeof(TMiddleware));
        web.Services.TryAddSingleton<TMiddleware>();
        return this;
    }

    /// <summary>
    /// Changes <c>extensions.eventLog</c> in code, after host.json is read. The result is validated at start-up like
    /// host.json (every problem named by its host.json key).
    /// </summary>
    public FunctionsApplicationBuilder ConfigureEventLog(Action<EventLogHostOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configureEventLog.Add(configure);
        return this;
    }

    /// <summary>Takes functions from these types instead of scanning the entry assembly (tests, plug-ins).</summary>
    public FunctionsApplicationBuilder AddFunctions(params Type[] types)
    {
        functionTypes.AddRange(types);
        return this;
    }

    /// <summary>Builds the app. Start-up problems (signatures, host.json, DI) are reported by <see cref="FunctionsApp.RunAsync"/>.</summary>
    public FunctionsApp Build()
    {
        IReadOnlyList<FunctionDefinition> functions = [];
        EventLogHostOptions options = new();
        string? problem = null;
        try
        {
            functions = FunctionDiscovery.Discover(functionTypes.Count > 0 ? functionTypes : (Assembly.GetEntryAssembly() ?? throw new InvalidOperationException("No entry assembly")).GetTypes());
            string? only = arguments.Functions ?? Environment.GetEnvironmentVariable(FaasSettings.Functions);
            if (!string.IsNullOrWhiteSpace(only))
            {
                string[] names = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                string[] unknown = names.Where(n => functions.All(f => f.Name != n)).ToArray();
                if (unknown.Length > 0)
                {
                    throw new FunctionIndexingException([$"--functions names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which the app does not have (it has: {string.Join(", ", functions.Select(f => f.Name))})"]);
                }

                functions = functions.Where(f => names.Contains(f.Name)).ToList();
            }

            string? hostJson = FindHostJson();
            (options, IReadOnlyDictionary<string, string> levels) = HostJson.Load(hostJson);
            web.Configuration.AddInMemoryCollection(levels.Select(kv => new KeyValuePair<string, string?>($"Logging:LogLevel:{kv.Key}", kv.Value)));
            if (configureEventLog.Count > 0)
            {
                configureEventLog.ForEach(configure => configure(options));
                if (options.Validate() is { Count: > 0 } problems)
                {
                    throw new HostJsonException(string.Join("; ", problems.Select(p => $"extensions.eventLog.{p} (set in code by ConfigureEventLog)")));
                }
            }
        }
        catch (Exception ex) when (ex is FunctionIndexingException or HostJsonException)
        {
            problem = ex.Message;
        }

        string instanceId = arguments.InstanceId ?? Environment.GetEnvironmentVariable(FaasSettings.InstanceId)
            ?? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
        var settings = new FunctionsAppSettings(functions, options, middleware, instanceId);
        web.Services.AddSingleton(settings);
        web.Services.AddSingleton(options);
        web.Services.TryAddSingleton(TimeProvider.System);
        web.Services.TryAddSingleton<IStateSerializer, JsonStateSerializer>();
        web.Services.AddSingleton<FunctionsRuntime>();
        web.Services.AddHostedService(sp => sp.GetRequiredService<FunctionsRuntime>());
        web.Services.TryAddSingleton(sp => sp.GetRequiredService<FunctionsRuntime>().ClientFor(FunctionsDefaults.ConnectionSetting));
        web.Services.TryAddSingleton(sp => new EventProducerPool(sp.GetRequiredService<EventLogClient>(), new EventProducerOptions { Linger = TimeSpan.Zero }));
        int port = arguments.Port ?? (int.TryParse(Environment.GetEnvironmentVariable(FaasSettings.FunctionsPort), NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : 7071);
        web.WebHost.UseUrls($"http://0.0.0.0:{port}");

        WebApplication app = web.Build();
        if (problem is null)
        {
            problem = CheckServices(app.Services, functions);
        }

        MapEndpoints(app, settings);
        return new FunctionsApp(app, settings, arguments.List, problem, port, arguments.HealthCheck ? port : null);
    }

    private string? FindHostJson()
    {
        string? explicitPath = arguments.HostJson ?? Environment.GetEnvironmentVariable(FaasSettings.HostJson);
        if (explicitPath is not null)
        {
            return File.Exists(explicitPath) ? explicitPath : throw new HostJsonException($"host.json not found at '{explicitPath}'");
        }

        return new[] { Path.Combine(AppContext.BaseDirectory, "host.json"), Path.Combine(Directory.GetCurrentDirectory(), "host.json") }.FirstOrDefault(File.Exists);
    }

    private static string? CheckServices(IServiceProvider services, IReadOnlyList<FunctionDefinition> functions)
    {
        var isService = services.GetRequiredService<IServiceProviderIsService>();
        var problems = new List<string>();
        foreach (FunctionDefinition f in functions)
        {
            foreach (ParameterBinding p in f.Parameters.Where(p => p.Kind == ParameterKind.Service && !isService.IsService(p.Type)))
            {
                problems.Add($"[Function(\"{f.Name}\")] {FunctionDiscovery.Where(f.Method)}: parameter '{p.Name}' of type {FunctionDiscovery.Pretty(p.Type)} is not the trigger, FunctionContext, CancellationToken or ILogger, and no service of that type is registered (builder.Services.Add...)");
            }
        }

        return problems.Count == 0 ? null : new FunctionIndexingException(problems).Message;
    }

    private static void MapEndpoints(WebApplication app, FunctionsAppSettings settings)
    {
        app.MapGet("/healthz", (FunctionsRuntime runtime) =>
        {
            var functions = runtime.Balancers.Select(b => new
            {
                name = b.Function.Name,
                stream = b.Function.Stream,
                consumerGroup = b.Function.ConsumerGroup,
                ownedPartitions = b.Owned,
                haltedPartitions = b.Halted.Select(h => h.Partition).ToList(),
                haltReasons = b.Halted.Select(h => new { partition = h.Partition, reason = h.Reason }).ToList(),
                failingPartitions = b.Failing.Select(f => f.Partition).ToList(),
                partitionErrors = b.Failing.Select(f => new { partition = f.Partition, failedStarts = f.Starts, error = f.Error }).ToList(),
                stalledPartitions = b.Stalled.Select(s => new { partition = s.Partition, write = s.Stall.Write, since = s.Stall.Since, failedTries = s.Stall.FailedTries, error = s.Stall.Error }).ToList(),
                lastError = b.LastError,
            }).ToList();
            bool healthy = functions.All(f => f.haltedPartitions.Count == 0 && f.failingPartitions.Count == 0 && f.stalledPartitions.Count == 0 && f.lastError is null);
            return Results.Json(new { status = healthy ? "healthy" : "degraded", instance = settings.InstanceId, functions }, statusCode: healthy ? 200 : 503);
        });
        app.MapGet("/functions", () => Results.Json(FunctionsApp.Describe(settings.Functions)));
        MaterializerEndpoints.Map(app, settings);
        app.MapMetrics("/metrics");
    }
}

/// <summary>A built function app.</summary>
public sealed class FunctionsApp : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly FunctionsAppSettings settings;
    private readonly bool listOnly;
    private readonly string? problem;

    private readonly int? healthCheckPort;
    private readonly int port;

    internal FunctionsApp(WebApplication app, FunctionsAppSettings settings, bool listOnly, string? problem, int port, int? healthCheckPort = null)
    {
        this.port = port;
        this.healthCheckPort = healthCheckPort;
        this.app = app;
        this.settings = settings;
        this.listOnly = listOnly;
        this.problem = problem;
    }

    /// <summary>The app's services.</summary>
    public IServiceProvider Services => app.Services;

    /// <summary>The functions this instance runs.</summary>
    public IReadOnlyList<FunctionDefinition> Functions => settings.Functions;

    /// <summary>This instance's id (lease owner).</summary>
    public string InstanceId => settings.InstanceId;

    /// <summary>The port serving /healthz and /metrics, once started.</summary>
    public int Port => new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)).Port;

    /// <summary>
    /// Runs until SIGTERM/Ctrl+C, then stops gracefully (finish in-flight, checkpoint, release leases) and returns.
    /// With <c>--list</c> it prints the functions as JSON and returns. Start-up problems are printed as one
    /// <c>error:</c> block and set the exit code to 1.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        if (healthCheckPort is { } port)
        {
            Environment.ExitCode = await FaasEvents.DevStorage.HealthProbe.RunAsync(port, TimeSpan.FromSeconds(3));
            return;
        }

        if (problem is not null)
        {
            await Console.Error.WriteLineAsync("error: " + problem);
            Environment.ExitCode = 1;
            return;
        }

        if (listOnly)
        {
            Console.WriteLine(JsonSerializer.Serialize(Describe(settings.Functions), new JsonSerializerOptions { WriteIndented = true }));
            return;
        }

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Port taken, storage unreachable, a missing setting: one line naming the cause and the fix, exit code 1.
            string storage = app.Services.GetRequiredService<FunctionsRuntime>().ClientFor(FunctionsDefaults.ConnectionSetting).StorageDescription;
            await Console.Error.WriteLineAsync("error: " + StartupError.Describe(ex, this.port, storage));
            Environment.ExitCode = 1;
            return;
        }

        await app.WaitForShutdownAsync(cancellationToken);
    }

    /// <summary>Starts without blocking (tests); start-up problems throw.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (problem is not null)
        {
            throw new FunctionIndexingException([problem]);
        }

        await app.StartAsync(cancellationToken);
    }

    /// <summary>Stops gracefully.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => app.StopAsync(cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => app.DisposeAsync();

    internal static IEnumerable<object> Describe(IReadOnlyList<FunctionDefinition> functions) =>
        functions.Select(f => new { name = f.Name, stream = f.Stream, consumerGroup = f.ConsumerGroup, kind = f.Kind, outputStream = f.OutputStream, changelog = f.ChangelogStream });
}

internal sealed record AppArguments(bool List, int? Port, string? InstanceId, string? HostJson, string? Functions, string[] Rest, bool HealthCheck = false)
{
    public static AppArguments Parse(string[] args)
    {
        bool list = false, health = false;
        int? port = null;
        string? instance = null, hostJson = null, functions = null;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new FunctionIndexingException([$"argument {args[i]} needs a value"]);
            switch (args[i])
            {
                case "--list": list = true; break;
                case "--healthcheck": health = true; break;
                case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--instance-id": instance = Next(); break;
                case "--host-json": hostJson = Next(); break;
                case "--functions": functions = Next(); break;
                default: rest.Add(args[i]); break;
            }
        }

        return new AppArguments(list, port, instance, hostJson, functions, rest.ToArray(), health);
    }
}
