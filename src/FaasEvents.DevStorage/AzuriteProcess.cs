using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FaasEvents.DevStorage;

/// <summary>
/// A local Azurite blob service run from the repository's pinned npm package (package.json), installed with
/// <c>npm ci</c> on first use. Used by <c>faas dev</c> and by the test fixture when no Docker engine answers.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known development key (public, documented by Microsoft; not a secret).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process process;
    private readonly StringBuilder output;

    private AzuriteProcess(Process process, int port, StringBuilder output)
    {
        this.process = process;
        this.output = output;
        BlobPort = port;
    }

    /// <summary>The blob port it listens on (127.0.0.1).</summary>
    public int BlobPort { get; }

    /// <summary>Connection string for this instance.</summary>
    public string ConnectionString => GetConnectionString(BlobPort);

    /// <summary>Connection string for an Azurite blob endpoint on 127.0.0.1:<paramref name="port"/>.</summary>
    public static string GetConnectionString(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/{AccountName};";

    /// <summary>Finds the directory holding the package.json that pins azurite, walking up from <paramref name="start"/>.</summary>
    public static string? FindRepositoryRoot(string? start = null)
    {
        for (DirectoryInfo? dir = new(start ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string pkg = Path.Combine(dir.FullName, "package.json");
            if (File.Exists(pkg) && File.ReadAllText(pkg).Contains("\"azurite\"", StringComparison.Ordinal))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>True when something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<bool> IsListeningAsync(int port, CancellationToken cancellationToken = default)
    {
        try
        {
            using var client = new TcpClient();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(TimeSpan.FromMilliseconds(500));
            await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// <paramref name="count"/> distinct free TCP ports on 127.0.0.1 (each held until all are chosen, so the OS cannot
    /// hand the same one out twice, as two calls of <see cref="GetFreePort"/> can).
    /// </summary>
    public static int[] GetFreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    /// <summary>A free TCP port on 127.0.0.1.</summary>
    public static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Installs Azurite if needed (<c>npm ci</c> in <paramref name="repositoryRoot"/>), then starts its blob
    /// service on <paramref name="port"/> (0 = a free port). In-memory unless <paramref name="dataDirectory"/> is given.
    /// </summary>
    public static async Task<AzuriteProcess> StartAsync(string repositoryRoot, int port = 0, string? dataDirectory = null, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        string script = await EnsureInstalledAsync(repositoryRoot, progress, cancellationToken);
        string node = FindOnPath("node") ?? throw new InvalidOperationException("Node.js ('node') is not on PATH; install Node 20+ to run Azurite locally.");
        for (int attempt = 0; ; attempt++)
        {
            int p = port == 0 ? GetFreePort() : port;
            var psi = new ProcessStartInfo(node)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = repositoryRoot,
            };
            foreach (string arg in new[] { "--require", GcOncePerDayPreload(script), script, "--blobHost", "127.0.0.1", "--blobPort", p.ToString(System.Globalization.CultureInfo.InvariantCulture), "--skipApiVersionCheck", "--loose", "--disableProductStyleUrl" })
            {
                psi.ArgumentList.Add(arg);
            }

            if (dataDirectory is null)
            {
                psi.ArgumentList.Add("--inMemoryPersistence");
            }
            else
            {
                Directory.CreateDirectory(dataDirectory);
                psi.ArgumentList.Add("--location");
                psi.ArgumentList.Add(dataDirectory);
            }

            psi.InOwnProcessGroup(); // Ctrl+C in faas dev's terminal must not stop storage before the apps
            var output = new StringBuilder();
            var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var azurite = new AzuriteProcess(process, p, output);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (process.HasExited)
                {
                    process.WaitForExit(); // its last lines (e.g. EADDRINUSE) may still be on their way through the output readers
                    break;
                }

                if (HasSaidListening(output) && await IsListeningAsync(p, cancellationToken))
                {
                    return azurite; // Azurite's own words, not just an open port: another server may hold the port
                }

                await Task.Delay(100, cancellationToken);
            }

            string log;
            lock (output)
            {
                log = output.ToString();
            }

            await azurite.DisposeAsync();
            if (port == 0 && attempt < 3 && log.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                continue; // lost a race for the free port
            }

            if (log.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Azurite did not start: port {p} is in use by another program; stop it or choose another storage port.");
            }

            throw new InvalidOperationException($"Azurite did not start on port {p}: {log.Trim()}");
        }
    }

    /// <summary>True once Azurite's blob service has printed that it listens (blob/main.js: "... successfully listens on ...").</summary>
    private static bool HasSaidListening(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString().Contains("successfully listen", StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A script for <c>node --require</c> that moves the extent garbage collection of the Azurite service whose
    /// <c>main.js</c> is <paramref name="script"/> (blob: every 10 minutes, queue: every minute) to once a day. Its
    /// mark-and-sweep grows with what the service held and blocks every request while it runs: with ~150,000 blocks (a
    /// day of a small function app's outputs) it stalled blob storage for more than 3 minutes, twice, in the reliability
    /// suite; the queue service's removal of deleted messages' extents (LokiJS re-sorting its indexes per removal)
    /// stalled the queue benchmark for minutes after ~20,000 messages. Only the reclaiming of deleted data waits; no
    /// data changes.
    /// </summary>
    public static string GcOncePerDayPreload(string script)
    {
        ArgumentNullException.ThrowIfNull(script);
        string constants = Path.Combine(Path.GetDirectoryName(script)!, "utils", "constants.js");
        string service = Path.GetFileName(Path.GetDirectoryName(script)!);
        string path = Path.Combine(Path.GetTempPath(), $"faas-azurite-{service}-gc-daily.js");
        string content = "// Written by FaasEvents.DevStorage: Azurite's extent GC once a day (it stalls Azurite for minutes with many extents).\n"
            + $"require({System.Text.Json.JsonSerializer.Serialize(constants)}).DEFAULT_GC_INTERVAL_MS = 24 * 60 * 60 * 1000;\n";
        if (!File.Exists(path) || File.ReadAllText(path) != content)
        {
            string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"; // unique per call: two fixtures of one process may start Azurite at once
            File.WriteAllText(temp, content);
            File.Move(temp, path, overwrite: true);
        }

        return path;
    }

    /// <summary>Runs <c>npm ci</c> once (serialised across processes by a lock file) when Azurite is missing.</summary>
    public static Task<string> EnsureInstalledAsync(string repositoryRoot, Action<string>? progress = null, CancellationToken cancellationToken = default) =>
        EnsureNpmPackageAsync(repositoryRoot, Path.Combine("azurite", "dist", "src", "blob", "main.js"), progress, cancellationToken);

    /// <summary>
    /// Returns <c>node_modules/{relativePath}</c>, running <c>npm ci</c> first (once, serialised across processes) when it
    /// is missing: the repository's package.json pins every npm tool the project uses.
    /// </summary>
    public static async Task<string> EnsureNpmPackageAsync(string repositoryRoot, string relativePath, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        string script = Path.Combine(repositoryRoot, "node_modules", relativePath);
        if (File.Exists(script))
        {
            return script;
        }

        string lockPath = Path.Combine(repositoryRoot, ".azurite-install.lock");
        FileStream? lockFile = null;
        while (lockFile is null)
        {
            try
            {
                lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException)
            {
                await Task.Delay(500, cancellationToken);
            }
        }

        await using (lockFile)
        {
            if (File.Exists(script))
            {
                return script;
            }

            progress?.Invoke("Installing the pinned npm packages (npm ci) ...");
            string npm = FindOnPath("npm") ?? throw new InvalidOperationException("npm is not on PATH; install Node 20+ (with npm) to run Azurite locally.");
            var psi = new ProcessStartInfo(npm)
            {
                WorkingDirectory = repositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string a in new[] { "ci", "--no-audit", "--no-fund", "--loglevel", "error" })
            {
                psi.ArgumentList.Add(a);
            }

            using Process p = Process.Start(psi)!;
            Task<string> stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
            Task<string> stderr = p.StandardError.ReadToEndAsync(cancellationToken);
            await p.WaitForExitAsync(cancellationToken);
            if (p.ExitCode != 0 || !File.Exists(script))
            {
                throw new InvalidOperationException($"'npm ci' in {repositoryRoot} failed (exit {p.ExitCode}): {await stderr}{await stdout}");
            }
        }

        return script;
    }

    /// <summary>The first executable called <paramref name="name"/> on PATH.</summary>
    public static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Output Azurite printed so far (for diagnostics).</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Freezes Azurite (SIGSTOP): requests hang, as against storage that stopped answering.</summary>
    public Task PauseAsync() => process.SignalAsync("STOP");

    /// <summary>Lets a paused Azurite go on (SIGCONT).</summary>
    public Task ResumeAsync() => process.SignalAsync("CONT");

    /// <summary>Stops Azurite gracefully (SIGTERM: it saves its on-disk metadata), then kills it after <paramref name="grace"/>.</summary>
    public Task<int> StopGracefullyAsync(TimeSpan grace) => process.TerminateAsync(grace);

    /// <summary>Stops Azurite.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }

        process.Dispose();
    }
}
