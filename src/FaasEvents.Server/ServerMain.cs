using FaasEvents.DevStorage;
using FaasEvents.Log;

namespace FaasEvents.Server;

/// <summary>The server's entry point, shared by its own executable and <c>faas server</c> (the .NET tool).</summary>
public static class ServerMain
{
    /// <summary>Runs the control plane until Ctrl+C / SIGTERM; <c>--healthcheck</c> probes a running one instead. Returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Contains("--healthcheck"))
        {
            return await HealthProbe.RunAsync(HealthProbe.PortFrom(args, FaasSettings.HttpPort, 8080), TimeSpan.FromSeconds(3));
        }

        try
        {
            Microsoft.AspNetCore.Builder.WebApplication app = ServerApp.Build(args);
            ServerOptions options = app.Services.GetRequiredService<ServerOptions>(); // RunAsync disposes the services when it fails
            foreach ((int port, string option) in new[] { (options.HttpPort, "--http-port"), (options.GrpcPort, "--grpc-port") })
            {
                if (IsTaken(port))
                {
                    Console.Error.WriteLine("error: " + PortInUse(port, option)); // before the host logs the same as a stack trace
                    return 1;
                }
            }

            try
            {
                await app.RunAsync();
            }
            catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                Console.Error.WriteLine("error: " + PortInUse(options, ex.Message));
                return 1;
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine("error: " + ex.Message);
            return 1;
        }

        return 0;
    }

    /// <summary>Names the taken port and its option; Kestrel's message ("Failed to bind to address http://0.0.0.0:P: ...") says which.</summary>
    private static string PortInUse(ServerOptions options, string kestrelMessage) =>
        kestrelMessage.Contains($":{options.GrpcPort}:", StringComparison.Ordinal)
            ? PortInUse(options.GrpcPort, "--grpc-port")
            : PortInUse(options.HttpPort, "--http-port");

    private static string PortInUse(int port, string option) =>
        $"port {port} ({option}) is in use by another program; stop it or choose another {option}.";

    /// <summary>True when binding all addresses on <paramref name="port"/> fails now, as Kestrel's ListenAnyIP would.</summary>
    private static bool IsTaken(int port)
    {
        if (port == 0)
        {
            return false;
        }

        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetworkV6, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { DualMode = true };
        try
        {
            probe.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.IPv6Any, port));
            return false;
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            return true;
        }
    }
}
