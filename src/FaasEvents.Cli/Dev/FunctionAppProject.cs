namespace FaasEvents.Cli.Dev;

/// <summary>Finds a function app project: an executable .csproj that references FaasEvents.Functions and is not a test project.</summary>
internal static class FunctionAppProject
{
    /// <summary>The app project in <paramref name="directory"/>, else in its immediate subdirectories; null when there is none.</summary>
    public static string? Find(string directory)
    {
        foreach (IEnumerable<string> candidates in new[] { Projects(directory), Directory.EnumerateDirectories(directory).Where(d => !Path.GetFileName(d).StartsWith('.')).SelectMany(Projects) })
        {
            List<string> apps = [.. candidates.Where(IsFunctionApp).Order(StringComparer.Ordinal)];
            if (apps.Count > 1)
            {
                throw new InvalidOperationException($"several function app projects here ({string.Join(", ", apps.Select(a => Path.GetRelativePath(directory, a)))}): pass --project PATH to say which one faas dev runs.");
            }

            if (apps.Count == 1)
            {
                return apps[0];
            }
        }

        return null;
    }

    /// <summary>The project --project names: a .csproj file, or a directory holding one function app project.</summary>
    public static string FromOption(string path)
    {
        if (File.Exists(path))
        {
            return path.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase) ? path : throw new InvalidOperationException($"--project {path} is not a .csproj file: pass the function app's project file or its directory.");
        }

        if (Directory.Exists(path))
        {
            return Find(path) ?? throw new InvalidOperationException($"--project {path}: no function app project there (an executable .csproj referencing FaasEvents.Functions).");
        }

        throw new InvalidOperationException($"--project {path} does not exist: pass the function app's project file or its directory.");
    }

    /// <summary>True for an executable project that references FaasEvents.Functions (package or project) and is not a test project.</summary>
    public static bool IsFunctionApp(string csproj)
    {
        string text = File.ReadAllText(csproj);
        return text.Contains("FaasEvents.Functions", StringComparison.Ordinal)
            && text.Contains("<OutputType>Exe</OutputType>", StringComparison.OrdinalIgnoreCase)
            && !text.Contains("Microsoft.NET.Test.Sdk", StringComparison.Ordinal)
            && !text.Contains("<IsTestProject>true</IsTestProject>", StringComparison.OrdinalIgnoreCase);
    }

    private static IEnumerable<string> Projects(string directory) => Directory.EnumerateFiles(directory, "*.csproj");
}
