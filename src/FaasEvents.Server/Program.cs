using FaasEvents.Server;

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
