using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Server;

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
