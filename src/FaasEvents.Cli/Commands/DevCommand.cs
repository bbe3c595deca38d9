using System.CommandLine;
using System.Globalization;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Streams;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FaasEvents.Cli.Commands;

internal static class DevCommand
{
    public const int DefaultPort = 10000;

    public static Command Build()
    {
        var storageOnly = new Option<bool>("--storage-only") { Description = "Run only local storage (Azurite) with a live view of the streams." };
        var port = new Option<int>("--port") { Description = "Azurite blob port.", DefaultValueFactory = _ => DefaultPort };
        var inMemory = new Option<bool>("--in-memory") { Description = "Keep nothing on disk (default: .faas/azurite in the repository)." };
        var httpPort = new Option<int>("--http-port") { Description = "Server HTTP port (ingress, admin).", DefaultValueFactory = _ => 8080 };
        var grpcPort = new Option<int>("--grpc-port") { Description = "Server gRPC port (KEDA scaler).", DefaultValueFactory = _ => 6000 };
        var lagThreshold = new Option<long>("--lag-threshold") { Description = "Target lag per instance (ScaledObject lagThreshold).", DefaultValueFactory = _ => 100 };
        var maxReplicas = new Option<int?>("--max-replicas") { Description = "Most instances (default: the largest trigger stream's partition count; twice that, at least 4, when a function consumes its stream as a queue)." };
        var polling = new Option<double>("--polling-interval") { Description = "Seconds between scaler polls (KEDA pollingInterval).", DefaultValueFactory = _ => 2 };
        var cooldown = new Option<double>("--cooldown") { Description = "Seconds without lag before scaling to zero (KEDA cooldownPeriod).", DefaultValueFactory = _ => 15 };
        var ping = new Option<string?>("--ping-schedule") { Description = "Cron schedule of the 'ping' source (6 fields = with seconds); 'off' disables it. Default: every 10 s for the samples, off for your own app." };
        var serverDll = new Option<string?>("--server-dll") { Description = "Use this built server instead of building src/FaasEvents.Server." };
        var appDll = new Option<string?>("--app-dll") { Description = "Use this built function app instead of building one." };
        var project = new Option<string?>("--project", "-p") { Description = "The function app project (.csproj or its directory). Default: the one in the current directory or its subdirectories; in a FaasEvents checkout, the samples." };
        var noPush = new Option<bool>("--no-push") { Description = "Poll only (KEDA 'external' instead of 'external-push'): no StreamIsActive wake-up." };
        var logs = new Option<bool>("--logs") { Description = "Print every process's output line by line instead of the live view (functions, instances, lag, events/s above the latest output)." };
        var functions = new Option<string?>("--functions") { Description = "Run and scale only these functions (comma-separated)." };
        var command = new Command("dev", "Run FaasEvents locally: Azurite, the server (scaler, ingress, ping source) and your function app (or the samples) scaled 0..N by a local KEDA.")
        {
            storageOnly, port, inMemory, httpPort, grpcPort, lagThreshold, maxReplicas, polling, cooldown, ping, serverDll, appDll, project, functions, noPush, logs,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(storageOnly))
            {
                return await RunStorageOnlyAsync(parse.GetValue(port), parse.GetValue(inMemory), parse, ct);
            }

            var settings = new Dev.DevSettings(
                parse.GetValue(port),
                parse.GetValue(inMemory),
                parse.GetValue(httpPort),
                parse.GetValue(grpcPort),
                parse.GetValue(lagThreshold),
                parse.GetValue(maxReplicas),
                TimeSpan.FromSeconds(parse.GetValue(polling)),
                TimeSpan.FromSeconds(parse.GetValue(cooldown)),
                parse.GetValue(ping),
                parse.GetValue(serverDll),
                parse.GetValue(appDll),
                parse.GetValue(FaasCli.Container) ?? Environment.GetEnvironmentVariable(FaasSettings.Container) ?? EventLogClientOptions.DefaultContainerName,
                parse.GetValue(functions),
                !parse.GetValue(noPush),
                parse.GetValue(project),
                parse.GetValue(logs));
            try
            {
                return await new Dev.DevEnvironment(settings).RunAsync(ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Console.Error.WriteLine("error: " + FaasCli.Describe(ex, null));
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunStorageOnlyAsync(int port, bool inMemory, ParseResult parse, CancellationToken cancellationToken)
    {
        AzuriteProcess? azurite = null;
        try
        {
            if (await AzuriteProcess.IsListeningAsync(port, cancellationToken))
            {
                Console.WriteLine($"Using the Azurite (or other service) already listening on 127.0.0.1:{port}.");
            }
            else
            {
                string? repository = AzuriteProcess.FindRepositoryRoot(Directory.GetCurrentDirectory());
                string root = repository ?? AzuriteInstall.UserRoot();
                string? data = inMemory ? null : Path.Combine(repository ?? Directory.GetCurrentDirectory(), ".faas", "azurite");
                Console.WriteLine($"Starting Azurite on 127.0.0.1:{port} ({(data is null ? "in memory" : "data in " + Path.GetRelativePath(Directory.GetCurrentDirectory(), data))}) ...");
                azurite = await AzuriteProcess.StartAsync(root, port, data, msg => Console.WriteLine(msg), cancellationToken);
            }

            string connection = port == DefaultPort ? EventLogClient.DevelopmentStorage : AzuriteProcess.GetConnectionString(port);
            var log = new EventLogClient(connection, new EventLogClientOptions { ContainerName = parse.GetValue(FaasCli.Container) ?? Environment.GetEnvironmentVariable(FaasSettings.Container) ?? EventLogClientOptions.DefaultContainerName });
            await log.Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            Console.WriteLine($"Local storage is ready: http://127.0.0.1:{port}/{AzuriteProcess.AccountName}, container '{log.Container.Name}'.");
            if (port != DefaultPort)
            {
                Console.WriteLine($"In other terminals: export FAAS_STORAGE='{connection}'  (Azurite's public development key)");
            }

            Console.WriteLine("Try, in another terminal:");
            Console.WriteLine("  ./faas streams create demo --partitions 4");
            Console.WriteLine("  ./faas produce demo --key order-1 --type com.example.order.created --data '{\"total\": 42}'");
            Console.WriteLine("  ./faas tail demo --follow");
            Console.WriteLine("Ctrl+C stops Azurite.");

            if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
            {
                await AnsiConsole.Live(new Text("loading ...")).StartAsync(async ctx =>
                {
                    while (!cancellationToken.IsCancellationRequested)
                    {
                        ctx.UpdateTarget(await RenderAsync(log, cancellationToken));
                        await Task.Delay(1000, cancellationToken);
                    }
                });
            }
            else
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("error: " + FaasCli.Describe(ex, null));
            return 1;
        }
        finally
        {
            if (azurite is not null)
            {
                await azurite.DisposeAsync();
                Console.WriteLine("Azurite stopped.");
            }
        }
    }

    private static async Task<IRenderable> RenderAsync(EventLogClient log, CancellationToken cancellationToken)
    {
        var table = new Table().Title($"streams in container '{Markup.Escape(log.Container.Name)}' ({DateTime.Now:HH:mm:ss})")
            .AddColumns("Stream", "Kind", "Partitions", "Events", "Bytes", "Last append");
        try
        {
            await foreach (StreamDefinition def in log.ListStreamsAsync(cancellationToken))
            {
                IReadOnlyList<PartitionInfo> parts = await log.GetPartitionsAsync(def.Name, cancellationToken);
                DateTimeOffset? last = parts.Max(p => p.LastAppend);
                table.AddRow(
                    Markup.Escape(def.Name),
                    def.Kind == StreamKind.Entities ? "entities" : "events",
                    def.Partitions.ToString(CultureInfo.InvariantCulture),
                    Format.Number(parts.Sum(p => p.RetainedEvents)),
                    Format.Bytes(parts.Sum(p => p.Bytes)),
                    last?.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "-");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new Markup($"[red]{Markup.Escape(FaasCli.Describe(ex, log))}[/]");
        }

        return table;
    }
}
