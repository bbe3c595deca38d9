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
    /// Sends warm-up events (three, one after another, each awaited until handled: every path an append takes to the
    /// handler has run once) and then <paramref name="count"/> events, one every <paramref name="every"/> (default 20 ms), and returns each one's time from
    /// its send to its arrival in <paramref name="arrived"/> (id -> <see cref="Stopwatch.GetTimestamp"/>, filled by a handler).
    /// </summary>
    /// <param name="producer">Sends the probes.</param>
    /// <param name="arrived">Filled by the handler: event id -> Stopwatch timestamp at its start.</param>
    /// <param name="count">Probes to send.</param>
    /// <param name="every">Time between sends (default 20 ms).</param>
    /// <param name="pauseAtArrival">Filled by the handler, if given: event id -> <see cref="GC.GetTotalPauseDuration"/> at its start.</param>
    /// <param name="gcMillis">If given (with <paramref name="pauseAtArrival"/>): each probe's GC pause time between its send and its start, in ms.</param>
    /// <param name="sendMillis">If given: how long each probe's send call took (the append), in ms.</param>
    public static async Task<List<double>> ProbeLatencyAsync(EventProducerClient producer, ConcurrentDictionary<string, long> arrived, int count, TimeSpan? every = null, ConcurrentDictionary<string, TimeSpan>? pauseAtArrival = null, List<double>? gcMillis = null, List<double>? sendMillis = null)
    {
        foreach (string warm in new[] { "warm", "warm1", "warm2" })
        {
            await producer.SendAsync(new LogEvent(warm, "/bench", "lat"));
            while (!arrived.ContainsKey(warm))
            {
                await Task.Delay(5);
            }
        }

        return await ProbeAsync(id => producer.SendAsync(new LogEvent(id, "/bench", "lat")), arrived, count, every, "e", pauseAtArrival, gcMillis, sendMillis);
    }

    /// <summary>
    /// Sends <paramref name="count"/> probes with <paramref name="send"/>, one every <paramref name="every"/> (default
    /// 20 ms), waits until the consumer recorded each in <paramref name="arrived"/>, and returns send -> arrival in ms
    /// (and, if asked, the GC pause time inside each, see <see cref="ProbeLatencyAsync"/>).
    /// </summary>
    public static async Task<List<double>> ProbeAsync(Func<string, Task> send, ConcurrentDictionary<string, long> arrived, int count, TimeSpan? every = null, string prefix = "e", ConcurrentDictionary<string, TimeSpan>? pauseAtArrival = null, List<double>? gcMillis = null, List<double>? sendMillis = null)
    {
        var sent = new Dictionary<string, long>();
        var sentPause = new Dictionary<string, TimeSpan>();
        for (int i = 0; i < count; i++)
        {
            string id = prefix + i.ToString(CultureInfo.InvariantCulture);
            sentPause[id] = GC.GetTotalPauseDuration();
            sent[id] = Stopwatch.GetTimestamp();
            await send(id);
            sendMillis?.Add(Stopwatch.GetElapsedTime(sent[id]).TotalMilliseconds); // the send itself (the append), in send order
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(20));
        }

        while (!sent.Keys.All(arrived.ContainsKey))
        {
            await Task.Delay(10);
        }

        if (pauseAtArrival is not null && gcMillis is not null)
        {
            gcMillis.AddRange(sent.Keys.Select(id => (pauseAtArrival[id] - sentPause[id]).TotalMilliseconds));
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
