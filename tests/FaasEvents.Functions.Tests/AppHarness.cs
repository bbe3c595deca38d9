using FaasEvents.Functions.Storage;
using FaasEvents.Functions.Storage.InMemory;
using FaasEvents.Log;
using FaasEvents.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace FaasEvents.Functions.Tests;

/// <summary>Builds an in-process function app on the fixture's Azurite with a given host.json.</summary>
internal static class AppHarness
{
    public const string FastHostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 10, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050",
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 2, "delayInterval": "00:10:00" } } } }
        """;

    public static FunctionsApp Build(AzuriteFixture azurite, EventLogClient log, Type functions, string hostJson = FastHostJson, Action<FunctionsApplicationBuilder>? configure = null)
    {
        string path = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, hostJson);
        FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(["--port", "0", "--host-json", path, "--instance-id", "test-" + Guid.NewGuid().ToString("N")[..6]]);
        builder.Configuration["FAAS_STORAGE"] = azurite.ConnectionString;
        builder.Configuration["FAAS_CONTAINER"] = log.Container.Name;
        builder.AddFunctions(functions);
        configure?.Invoke(builder);
        return builder.Build();
    }

    /// <summary>Builds an in-process function app on <paramref name="runtime"/>'s in-memory log and store: no storage at all.</summary>
    public static FunctionsApp BuildInMemory(Runtime.InMemoryRuntime runtime, Type functions, string hostJson = FastHostJson, Action<FunctionsApplicationBuilder>? configure = null)
    {
        string path = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, hostJson);
        FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(["--port", "0", "--host-json", path, "--instance-id", "test-" + Guid.NewGuid().ToString("N")[..6]]);
        builder.Services.AddSingleton<IFunctionStorage>(new InMemoryFunctionStorage(runtime.Log, runtime.Partitions));
        builder.AddFunctions(functions);
        configure?.Invoke(builder);
        return builder.Build();
    }

    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 60) => Eventually.UntilAsync(condition, what, seconds);

    public static Task WaitUntilAsync(Func<bool> condition, string what, int seconds = 60) => WaitUntilAsync(() => Task.FromResult(condition()), what, seconds);

    public static IServiceCollection AddFake(this IServiceCollection services, TimeProvider time) => services.AddSingleton(time);
}
