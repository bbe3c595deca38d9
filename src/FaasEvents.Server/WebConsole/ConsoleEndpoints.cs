namespace FaasEvents.Server.WebConsole;

/// <summary>
/// The web console at <c>/console</c>: static files embedded in the server (nothing from a CDN). The files carry no
/// data and are served to anyone; every view is a call of the admin API, which requires what the server requires.
/// </summary>
internal static class ConsoleEndpoints
{
    private static readonly Dictionary<string, string> Types = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
    };

    public static void MapConsole(this WebApplication app)
    {
        app.MapGet("/console/{*file}", (string? file) =>
        {
            string name = string.IsNullOrEmpty(file) ? "index.html" : file;
            Stream? content = typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream("console/" + name);
            return content is null || !Types.TryGetValue(Path.GetExtension(name), out string? type)
                ? Results.NotFound()
                : Results.Stream(content, type);
        }).AllowAnonymous();
    }
}
