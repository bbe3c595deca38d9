using System.Text.Json;
using FaasEvents.Functions.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FaasEvents.Functions;

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
        functions.Select(f => new { name = f.Name, stream = f.Stream, consumerGroup = f.ConsumerGroup, kind = f.Kind, consumption = f.IsQueue ? "queue" : "stream", outputStream = f.OutputStream, changelog = f.ChangelogStream });
}
