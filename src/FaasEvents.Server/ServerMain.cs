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
            await ServerApp.Build(args).RunAsync();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine("error: " + ex.Message);
            return 1;
        }

        return 0;
    }
}
