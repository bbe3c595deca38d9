using System.Reflection;

namespace FaasEvents.DevStorage;

/// <summary>
/// Where Azurite is installed when no FaasEvents checkout is at hand (the <c>faas</c> .NET tool run in a user's app):
/// a per-user directory holding the package.json and package-lock.json this assembly carries, so <c>npm ci</c> there
/// installs the same pinned Azurite the repository uses.
/// </summary>
public static class AzuriteInstall
{
    /// <summary>The pinned Azurite version (package.json of this assembly).</summary>
    public const string Version = "3.37.0";

    /// <summary>
    /// <c>$FAAS_HOME/azurite-{version}</c> (default <c>~/.faas</c>), created with its package files on first use; pass it
    /// to <see cref="AzuriteProcess.StartAsync"/> as the root.
    /// </summary>
    public static string UserRoot()
    {
        string home = Environment.GetEnvironmentVariable("FAAS_HOME") is { Length: > 0 } h ? h : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".faas");
        string root = Path.Combine(home, "azurite-" + Version);
        Directory.CreateDirectory(root);
        foreach (string file in new[] { "package.json", "package-lock.json" })
        {
            string path = Path.Combine(root, file);
            string content = Read(file);
            if (!File.Exists(path) || File.ReadAllText(path) != content)
            {
                string temp = $"{path}.{Environment.ProcessId}.tmp";
                File.WriteAllText(temp, content);
                File.Move(temp, path, overwrite: true);
            }
        }

        return root;
    }

    private static string Read(string file)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("FaasEvents.DevStorage.Azurite." + file)
            ?? throw new InvalidOperationException($"FaasEvents.DevStorage is missing its embedded Azurite/{file}; reinstall the faas tool.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
