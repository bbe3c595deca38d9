using System.CommandLine;
using System.Net.Sockets;
using Azure;
using Azure.Storage.Blobs;
using FaasEvents.Cli.Commands;
using FaasEvents.Log;

namespace FaasEvents.Cli;

/// <summary>The <c>faas</c> command line.</summary>
internal static class FaasCli
{
    /// <summary>Storage connection string or https blob endpoint; falls back to FAAS_STORAGE, then Azurite.</summary>
    public static readonly Option<string?> ConnectionString = new("--connection-string", "-c")
    {
        Description = "Storage connection string or https:// blob endpoint (managed identity). Default: env FAAS_STORAGE, else Azurite development storage.",
        Recursive = true,
    };

    /// <summary>Blob container holding the log.</summary>
    public static readonly Option<string?> Container = new("--container")
    {
        Description = "Blob container holding streams and groups. Default: env FAAS_CONTAINER, else 'faas'.",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("faas: FaasEvents, a serverless runtime for event streams kept in Azure Blob Storage.")
        {
            ConnectionString,
            Container,
            StreamsCommands.Build(),
            ProduceCommand.Build(),
            TailCommand.Build(),
            LagCommand.Build(),
            GroupsCommands.Build(),
            DeadLetterCommands.Build(),
            SchemaCommands.Build(),
            StateCommands.Build(),
            DevCommand.Build(),
            ManifestsCommand.Build(),
            ServerCommand.Build(),
        };
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        ParseResult parse = Build().Parse(args);
        // Ctrl+C / SIGTERM cancel the command's token; the command then has up to 30 s to finish cleanly (faas dev stops
        // its apps, server and storage in order), instead of System.CommandLine's default 2 s and exit code 130.
        return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
    }

    /// <summary>Creates the log client from the options and environment.</summary>
    public static EventLogClient CreateClient(ParseResult parse)
    {
        string? setting = parse.GetValue(ConnectionString) ?? Environment.GetEnvironmentVariable(FaasSettings.Storage);
        var options = new EventLogClientOptions
        {
            StorageOptions = new BlobClientOptions { Retry = { MaxRetries = 2, Delay = TimeSpan.FromMilliseconds(200), NetworkTimeout = TimeSpan.FromSeconds(30) } },
        };
        string? container = parse.GetValue(Container) ?? Environment.GetEnvironmentVariable(FaasSettings.Container);
        if (!string.IsNullOrWhiteSpace(container))
        {
            try
            {
                options.ContainerName = container;
            }
            catch (ArgumentException ex)
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, ex.Message.Split(" (Parameter")[0], ex);
            }
        }

        options.ServerUrl = FaasSettings.ParseServerUrl(Environment.GetEnvironmentVariable(FaasSettings.ServerUrl)); // appends wake functions at once
        options.ServerApiKey = FaasSettings.ParseServerApiKey(Environment.GetEnvironmentVariable(FaasSettings.ServerApiKey));
        return EventLogClient.FromSetting(setting, options);
    }

    /// <summary>Runs a command body; any failure becomes one clear line on stderr and exit code 1.</summary>
    public static async Task<int> GuardAsync(ParseResult parse, CancellationToken cancellationToken, Func<EventLogClient, CancellationToken, Task<int>> body)
    {
        EventLogClient? client = null;
        try
        {
            client = CreateClient(parse);
            return await body(client, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("error: " + Describe(ex, client));
            return 1;
        }
    }

    /// <summary>One line saying what went wrong; never includes a connection string or key.</summary>
    public static string Describe(Exception ex, EventLogClient? client)
    {
        if (Unreachable(ex))
        {
            return $"cannot reach storage at {client?.StorageDescription ?? "the configured endpoint"}. For local development start Azurite with './faas dev --storage-only', or pass --connection-string / set FAAS_STORAGE.";
        }

        return ex switch
        {
            EventLogException e => e.Message,
            RequestFailedException r when r.Status == 403 => $"storage refused access (403 {r.ErrorCode}) at {client?.StorageDescription}: check the connection string or the identity's role (Storage Blob Data Contributor).",
            RequestFailedException r => $"storage request failed ({r.Status} {r.ErrorCode}) at {client?.StorageDescription}.",
            FileNotFoundException f => f.Message,
            _ => ex.Message.Split('\n')[0],
        };
    }

    private static bool Unreachable(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException or HttpRequestException)
            {
                return true;
            }

            if (e is AggregateException agg && agg.InnerExceptions.Any(Unreachable))
            {
                return true;
            }
        }

        return false;
    }
}
