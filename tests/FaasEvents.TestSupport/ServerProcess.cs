using System.Diagnostics;
using System.Globalization;
using FaasEvents.DevStorage;

namespace FaasEvents.TestSupport;

/// <summary>The FaasEvents server (ingress, admin API, scaler) from this build, as a real process on loopback ports.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ProcessOutput output;
    private bool disposed;

    private ServerProcess(Process process, int httpPort)
    {
        this.process = process;
        output = new ProcessOutput(process);
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>A client for the server's HTTP port (ingress and admin API).</summary>
    public HttpClient Http { get; }

    /// <summary>What the server printed so far.</summary>
    public string Output => output.ToString();

    /// <summary>Starts the server on free ports and waits until its HTTP port answers.</summary>
    public static async Task<ServerProcess> StartAsync(string storage, string container, CancellationToken cancellationToken, params string[] extra)
    {
        for (int attempt = 0; ; attempt++)
        {
            ServerProcess? server = await TryStartAsync(storage, container, cancellationToken, extra);
            if (server is not null || attempt == 3)
            {
                return server ?? throw new InvalidOperationException("The server found its free ports taken four times in a row.");
            }
        }
    }

    /// <summary>Null when another program took one of the free ports before the server bound it.</summary>
    private static async Task<ServerProcess?> TryStartAsync(string storage, string container, CancellationToken cancellationToken, string[] extra)
    {
        int[] ports = AzuriteProcess.GetFreePorts(2);
        int http = ports[0], grpc = ports[1];
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[]
        {
            BuiltProgram.Path("src/FaasEvents.Server", "FaasEvents.Server.dll"),
            "--http-port", http.ToString(CultureInfo.InvariantCulture), "--grpc-port", grpc.ToString(CultureInfo.InvariantCulture),
            "--Logging:LogLevel:Default=Warning",
        }.Concat(extra))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["FAAS_STORAGE"] = storage;
        psi.Environment["FAAS_CONTAINER"] = container;
        var server = new ServerProcess(Process.Start(psi)!, http);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using HttpResponseMessage r = await server.Http.GetAsync(new Uri("/healthz", UriKind.Relative), cancellationToken);
                if (server.process.HasExited || r.StatusCode is not (System.Net.HttpStatusCode.OK or System.Net.HttpStatusCode.ServiceUnavailable))
                {
                    throw new HttpRequestException($"healthz: {(int)r.StatusCode}"); // not our server (healthy or not) answering on the port
                }

                return server;
            }
            catch (HttpRequestException) when (!server.process.HasExited && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(200, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                string printed = server.Output;
                await server.DisposeAsync();
                if (printed.Contains("in use by another program", StringComparison.Ordinal) || printed.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }

                throw new InvalidOperationException($"The server did not answer on port {http} within 60 s: {printed}", ex);
            }
        }
    }

    /// <summary>kill -9: the server gets no chance to release its leases.</summary>
    public void KillHard() => process.Kill(entireProcessTree: true);

    /// <summary>Stops the server (SIGTERM, then kill after 30 s); a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        Http.Dispose();
        if (!process.HasExited)
        {
            await process.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        process.Dispose();
    }
}
