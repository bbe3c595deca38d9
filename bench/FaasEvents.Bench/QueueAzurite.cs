using System.Diagnostics;
using System.Globalization;
using FaasEvents.DevStorage;

namespace FaasEvents.Bench;

/// <summary>Azurite's queue service, in memory on a free loopback port, for the Storage Queues comparison.</summary>
internal sealed class QueueAzurite : IAsyncDisposable
{
    private readonly Process process;

    private QueueAzurite(Process process, int port)
    {
        this.process = process;
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    public static async Task<QueueAzurite> StartAsync(string root)
    {
        string script = Path.Combine(root, "node_modules", "azurite", "dist", "src", "queue", "main.js");
        if (!File.Exists(script))
        {
            throw new FileNotFoundException($"Azurite's queue service is missing ({script}): run 'npm ci' in the repository root.");
        }

        int port = AzuriteProcess.GetFreePort();
        var psi = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        foreach (string arg in new[] { "--require", AzuriteProcess.GcOncePerDayPreload(script), script, "--queueHost", "127.0.0.1", "--queuePort", port.ToString(CultureInfo.InvariantCulture), "--inMemoryPersistence", "--skipApiVersionCheck", "--loose" })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = psi };
        bool listening = false; // Azurite's own words: another program may have taken the free port meanwhile
        process.OutputDataReceived += (_, e) => listening |= e.Data?.Contains("successfully listen", StringComparison.Ordinal) == true;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (int i = 0; i < 600 && !process.HasExited; i++)
        {
            if (Volatile.Read(ref listening) && await AzuriteProcess.IsListeningAsync(port))
            {
                return new QueueAzurite(process, port);
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("Azurite's queue service did not start within 60 s.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
