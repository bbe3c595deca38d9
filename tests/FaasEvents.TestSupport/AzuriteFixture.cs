using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using Xunit;

namespace FaasEvents.TestSupport;

/// <summary>
/// A fresh Azurite per test class (use as <c>IClassFixture&lt;AzuriteFixture&gt;</c>): a Testcontainers container
/// when a Docker engine answers, otherwise the repository's pinned npm Azurite, in memory, on a free port
/// (installed with <c>npm ci</c> if missing). <c>FAAS_TEST_AZURITE=docker|npm</c> forces one path.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private const string Image = "mcr.microsoft.com/azure-storage/azurite:3.35.0";
    private IAsyncDisposable? instance;

    /// <summary>Connection string of this class's Azurite.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>How Azurite was started: "docker" or "npm".</summary>
    public string Mode { get; private set; } = "";

    /// <summary>The npm-started process, when <see cref="Mode"/> is "npm".</summary>
    public AzuriteProcess? Process => instance as AzuriteProcess;

    public async Task InitializeAsync()
    {
        string mode = Environment.GetEnvironmentVariable("FAAS_TEST_AZURITE")?.ToLowerInvariant() ?? "auto";
        if (mode == "docker" || (mode == "auto" && DockerEngineLikely()))
        {
            try
            {
                IContainer container = new ContainerBuilder(Image)
                    .WithCommand("azurite-blob", "--blobHost", "0.0.0.0", "--blobPort", "10000", "--inMemoryPersistence", "--skipApiVersionCheck", "--loose")
                    .WithPortBinding(10000, assignRandomHostPort: true)
                    .WithWaitStrategy(Wait.ForUnixContainer().UntilInternalTcpPortIsAvailable(10000))
                    .Build();
                using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
                await container.StartAsync(cts.Token);
                instance = container;
                Mode = "docker";
                ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AzuriteProcess.AccountName};AccountKey={AzuriteProcess.AccountKey};BlobEndpoint=http://{container.Hostname}:{container.GetMappedPublicPort(10000)}/{AzuriteProcess.AccountName};";
                return;
            }
            catch (Exception) when (mode == "auto")
            {
                // No usable engine after all: fall through to npm.
            }
        }

        string root = AzuriteProcess.FindRepositoryRoot()
            ?? throw new InvalidOperationException("Cannot find the repository's package.json (with azurite) above " + AppContext.BaseDirectory);
        AzuriteProcess process = await AzuriteProcess.StartAsync(root);
        instance = process;
        Mode = "npm";
        ConnectionString = process.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (instance is not null)
        {
            await instance.DisposeAsync();
        }
    }

    /// <summary>A client on a fresh container name, so tests in one class never see each other's data.</summary>
    public EventLogClient CreateClient(EventLogClientOptions? options = null)
    {
        options ??= new EventLogClientOptions();
        if (options.ContainerName == EventLogClientOptions.DefaultContainerName)
        {
            options.ContainerName = "t" + Guid.NewGuid().ToString("N")[..20];
        }

        return new EventLogClient(ConnectionString, options);
    }

    /// <summary>Another client on an existing container, as a separate process would have (own producer id, own caches).</summary>
    public EventLogClient CreateClientFor(EventLogClient existing) =>
        new(ConnectionString, new EventLogClientOptions { ContainerName = existing.Container.Name });

    private static bool DockerEngineLikely() =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")) || File.Exists("/var/run/docker.sock");
}
