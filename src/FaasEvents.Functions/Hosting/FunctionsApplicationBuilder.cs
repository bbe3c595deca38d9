using System.Globalization;
using System.Reflection;
using FaasEvents.Functions.Runtime;
using FaasEvents.Functions.Telemetry;
using FaasEvents.Hosting.Auth;
using FaasEvents.Hosting.Telemetry;
using FaasEvents.Log;
using FaasEvents.Log.Producer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions;

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
        ColdStart.Mark("builder");
        arguments = AppArguments.Parse(args);
        // The content root is the app's own folder, not the working directory: the host watches its content root for
        // configuration changes, and watching a large working directory (faas dev runs apps from a checkout) cost a cold
        // start ~0.4 s. Slim: no hosting-startup scan, HTTPS setup or extra log providers.
        web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = arguments.Rest, ContentRootPath = AppContext.BaseDirectory });
        ColdStart.Mark("web");
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
            functions = FunctionDiscovery.Discover(functionTypes.Count > 0 ? functionTypes : AppFunctionTypes(Assembly.GetEntryAssembly() ?? throw new InvalidOperationException("No entry assembly")));
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

            ColdStart.Mark("index");
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

        ColdStart.Mark("discovered");
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
        web.Services.TryAddSingleton(sp => sp.GetRequiredService<EventLogClient>().CreateProducerPool(new EventProducerOptions { Linger = TimeSpan.Zero }));
        int port = arguments.Port ?? (int.TryParse(Environment.GetEnvironmentVariable(FaasSettings.FunctionsPort), NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : 7071);
        web.WebHost.UseUrls($"http://0.0.0.0:{port}");
        try
        {
            HttpAuth.Add(web.Services, FaasSettings.ParseApiKeys(web.Configuration[FaasSettings.ApiKeys]), web.Configuration);
        }
        catch (InvalidOperationException ex)
        {
            problem ??= ex.Message;
        }

        FunctionInstruments.EnsureCreated();
        TelemetrySetup.Add(web.Services, web.Configuration, Assembly.GetEntryAssembly()?.GetName().Name ?? "faas-functions");
        WebApplication app = web.Build();
        if (problem is null)
        {
            problem = CheckServices(app.Services, functions);
        }

        MapEndpoints(app, settings);
        ColdStart.Mark("built");
        return new FunctionsApp(app, settings, arguments.List, problem, port, arguments.HealthCheck ? port : null);
    }

    /// <summary>The types holding the app's functions: from the generated index when the app has one, else every type of the assembly.</summary>
    private static IEnumerable<Type> AppFunctionTypes(Assembly app) =>
        GeneratedFunctions.For(app) is { } index ? index.Select(f => f.DeclaringType).Distinct() : app.GetTypes();

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
            var queueFunctions = runtime.QueueConsumers.Select(c => new
            {
                name = c.Function.Name,
                stream = c.Function.Stream,
                consumerGroup = c.Function.ConsumerGroup,
                inFlight = c.InFlight,
                haltReason = c.HaltReason,
                stalledPartitions = c.Stalled.Select(s => new { partition = s.Partition, write = s.Stall.Write, since = s.Stall.Since, failedTries = s.Stall.FailedTries, error = s.Stall.Error }).ToList(),
                lastError = c.LastError,
            }).ToList();
            bool healthy = functions.All(f => f.haltedPartitions.Count == 0 && f.failingPartitions.Count == 0 && f.stalledPartitions.Count == 0 && f.lastError is null)
                && queueFunctions.All(q => q.haltReason is null && q.stalledPartitions.Count == 0 && q.lastError is null);
            return Results.Json(new { status = healthy ? "healthy" : "degraded", instance = settings.InstanceId, functions, queueFunctions }, statusCode: healthy ? 200 : 503);
        }).AllowAnonymous();
        app.MapGet("/functions", () => Results.Json(FunctionsApp.Describe(settings.Functions)));
        MaterializerEndpoints.Map(app, settings);
        TelemetrySetup.MapMetrics(app);
    }
}
