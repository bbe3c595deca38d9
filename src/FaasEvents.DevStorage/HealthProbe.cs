namespace FaasEvents.DevStorage;

/// <summary>
/// <c>--healthcheck</c> for container images without curl: GET http://127.0.0.1:{port}/healthz, exit 0 when it
/// answers 2xx, 1 otherwise. Used by the Dockerfiles' HEALTHCHECK.
/// </summary>
public static class HealthProbe
{
    /// <summary>Probes the local health endpoint; returns the process exit code.</summary>
    public static async Task<int> RunAsync(int port, TimeSpan timeout)
    {
        try
        {
            using var http = new HttpClient { Timeout = timeout };
            using HttpResponseMessage r = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
            return r.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return 1;
        }
    }

    /// <summary>The port given after <c>--healthcheck</c>, else from <paramref name="environmentVariable"/>, else <paramref name="fallback"/>.</summary>
    public static int PortFrom(string[] args, string environmentVariable, int fallback)
    {
        ArgumentNullException.ThrowIfNull(args);
        int i = Array.IndexOf(args, "--healthcheck");
        if (i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int p))
        {
            return p;
        }

        return int.TryParse(Environment.GetEnvironmentVariable(environmentVariable), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int e) ? e : fallback;
    }
}
