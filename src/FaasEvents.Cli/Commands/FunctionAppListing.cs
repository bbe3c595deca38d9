using System.Diagnostics;
using System.Text.Json;

namespace FaasEvents.Cli.Commands;

/// <summary>Runs a built function app with <c>--list</c> (no storage needed) and reads its functions.</summary>
internal static class FunctionAppListing
{
    public static async Task<IReadOnlyList<ListedFunction>> ListAsync(string appDll, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        if (!File.Exists(appDll))
        {
            throw new FileNotFoundException($"Function app '{appDll}' does not exist; build it first (dotnet build).");
        }

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(appDll);
        psi.ArgumentList.Add("--list");
        foreach ((string k, string v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
        string err = await p.StandardError.ReadToEndAsync(cancellationToken);
        await p.WaitForExitAsync(cancellationToken);
        string json = await stdout;
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"the function app failed to list its functions: {err.Trim()}");
        }

        return JsonDocument.Parse(json[json.IndexOf('[', StringComparison.Ordinal)..]).RootElement.EnumerateArray()
            .Select(f => new ListedFunction(
                f.GetProperty("name").GetString()!,
                f.GetProperty("stream").GetString()!,
                f.GetProperty("consumerGroup").GetString()!,
                f.GetProperty("kind").GetString()!,
                f.GetProperty("outputStream").GetString(),
                f.TryGetProperty("consumption", out JsonElement consumption) ? consumption.GetString() : null))
            .ToList();
    }
}
