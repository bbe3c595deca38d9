namespace FaasEvents.Functions;

/// <summary>Entry point of a function app, as in Azure Functions: <c>FunctionsApplication.CreateBuilder(args)</c>.</summary>
public static class FunctionsApplication
{
    /// <summary>
    /// Creates a builder. Recognised arguments: <c>--list</c> (print the functions as JSON and exit),
    /// <c>--port N</c> (health/metrics HTTP port; env <c>FAAS_FUNCTIONS_PORT</c>; default 7071; 0 = any free),
    /// <c>--instance-id ID</c> (env <c>FAAS_INSTANCE_ID</c>), <c>--host-json PATH</c> (env <c>FAAS_HOST_JSON</c>),
    /// <c>--functions a,b</c> (run only these; env <c>FAAS_FUNCTIONS</c>), <c>--healthcheck</c> (probe a running
    /// instance's /healthz on the port and exit 0/1, for container HEALTHCHECKs). Other arguments go to configuration.
    /// </summary>
    public static FunctionsApplicationBuilder CreateBuilder(string[] args) => new(args ?? []);
}
