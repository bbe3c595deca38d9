using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Azure.Storage.Blobs;
using FaasEvents.Functions;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using Microsoft.Extensions.DependencyInjection;

namespace FaasEvents.Bench;

/// <summary>What the function benches share: an in-process function app with given host.json settings, and a latency probe.</summary>
internal static class BenchApp
{
    /// <summary>A function app on <paramref name="storage"/>/<paramref name="container"/>; <paramref name="storageOptions"/> (e.g. a request counter) tunes its storage clients.</summary>
    public static FunctionsApp Build(string storage, string container, int batch, int checkpointEvery, string poll, Type functions, BlobClientOptions? storageOptions = null, Uri? serverUrl = null)
    {
        string hostJson = Path.Combine(Path.GetTempPath(), $"bench-host-{Guid.NewGuid():N}.json");
        File.WriteAllText(hostJson, $$"""
            { "version": "2.0", "logging": { "logLevel": { "default": "Warning" } },
              "extensions": { "eventLog": { "maxBatchSize": {{batch}}, "batchCheckpointFrequency": {{checkpointEvery}}, "pollInterval": "{{poll}}" } } }
            """);
        FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(["--port", "0", "--host-json", hostJson]);
        builder.Configuration["FAAS_STORAGE"] = storage;
        builder.Configuration["FAAS_CONTAINER"] = container;
        if (serverUrl is not null)
        {
            builder.Configuration["FAAS_SERVER_URL"] = serverUrl.ToString();
        }
        if (storageOptions is not null)
        {
            builder.Services.AddSingleton(storageOptions);
        }

        builder.AddFunctions(functions);
        return builder.Build();
    }

    /// <summary>
    /// Sends a warm-up event and then <paramref name="count"/> events, one every <paramref name="every"/> (default 20 ms), and returns each one's time from
    /// its send to its arrival in <paramref name="arrived"/> (id -> <see cref="Stopwatch.GetTimestamp"/>, filled by a handler).
    /// </summary>
    public static async Task<List<double>> ProbeLatencyAsync(EventProducerClient producer, ConcurrentDictionary<string, long> arrived, int count, TimeSpan? every = null)
    {
        await producer.SendAsync(new LogEvent("warm", "/bench", "lat"));
        while (!arrived.ContainsKey("warm"))
        {
            await Task.Delay(5);
        }

        var sent = new Dictionary<string, long>();
        for (int i = 0; i < count; i++)
        {
            string id = "e" + i.ToString(CultureInfo.InvariantCulture);
            sent[id] = Stopwatch.GetTimestamp();
            await producer.SendAsync(new LogEvent(id, "/bench", "lat"));
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(20));
        }

        while (arrived.Count < count + 1)
        {
            await Task.Delay(10);
        }

        return [.. sent.Select(kv => Stopwatch.GetElapsedTime(kv.Value, arrived[kv.Key]).TotalMilliseconds)];
    }

    /// <summary>The short commit the bench runs at ("unknown" without git), for the results tables.</summary>
    public static string Commit(string root)
    {
        try
        {
            using Process git = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD") { WorkingDirectory = root, RedirectStandardOutput = true })!;
            string text = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return text;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
