using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FaasEvents.DevStorage;
using FaasEvents.Functions;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.Server;
using FaasEvents.Server.Scaling;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// Append -> handler start with a warm instance at default settings (pollInterval 100 ms, maxPollInterval 1 s), for the
/// three ways an append reaches a running instance: made in its own process (the doorbell), made by another process
/// that tells the server (append notices), made by another process with no server (polling only, as before notices).
/// </summary>
internal static class WarmLatencyBench
{
    private static readonly ConcurrentDictionary<string, long> Started = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, TimeSpan> PauseAtStart = new(StringComparer.Ordinal);

    public static class LatencyFunctions
    {
        [Function("bench-latency")]
        public static void Latency([EventTrigger("bench-lat")] LogEvent e)
        {
            PauseAtStart.TryAdd(e.Id, GC.GetTotalPauseDuration());
            Started.TryAdd(e.Id, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>One measured case: each probe's latency and the GC pause time inside it (same order).</summary>
    public sealed record Row(string Case, TimeSpan Every, List<double> Millis, List<double> GcMillis, List<double> SendMillis, List<long> Rings, List<long> Arrivals, string Notices)
    {
        /// <summary>
        /// Of the slowest 5% of probes: how many were woken by a doorbell ring (a notice) between their send and their
        /// start, the median time from the send to that ring, and from the ring to the handler's start.
        /// </summary>
        public string SlowestStages()
        {
            if (Rings.Count == 0)
            {
                return "-";
            }

            var toRing = new List<double>();
            var toStart = new List<double>();
            int slow = 0;
            foreach (int i in Millis.Select((ms, i) => (ms, i)).OrderByDescending(x => x.ms).Take(Math.Max(1, Millis.Count / 20)).Select(x => x.i))
            {
                slow++;
                long arrival = Arrivals[i];
                long sendStart = arrival - (long)(Millis[i] * Stopwatch.Frequency / 1000);
                long ring = Rings.FirstOrDefault(r => r >= sendStart && r <= arrival); // a notice may ring before the send call returns
                if (ring != 0)
                {
                    toRing.Add((ring - sendStart) * 1000.0 / Stopwatch.Frequency);
                    toStart.Add((arrival - ring) * 1000.0 / Stopwatch.Frequency);
                }
            }

            return toRing.Count == 0
                ? string.Create(CultureInfo.InvariantCulture, $"0 of {slow} rung: found by a poll; {Notices}")
                : string.Create(CultureInfo.InvariantCulture, $"{toRing.Count} of {slow} rung; send -> ring {Stats.Percentile(toRing, 50):0.0} ms, ring -> start {Stats.Percentile(toStart, 50):0.0} ms (medians); {Notices}");
        }

        /// <summary>Of the slowest 5% of probes, the median time their send (the append itself) took.</summary>
        public string SlowestSend()
        {
            List<double> slow = Millis.Select((ms, i) => (ms, i)).OrderByDescending(x => x.ms).Take(Math.Max(1, Millis.Count / 20)).Select(x => SendMillis[x.i]).ToList();
            return string.Create(CultureInfo.InvariantCulture, $"{Stats.Percentile(slow, 50):0.0}");
        }

        /// <summary>Of the slowest 5% of probes, how many had a GC pause inside, and the median pause among those.</summary>
        public string SlowestWithGc()
        {
            List<(double Ms, double Gc)> slow = Millis.Zip(GcMillis).OrderByDescending(x => x.First).Take(Math.Max(1, Millis.Count / 20)).ToList();
            List<double> paused = slow.Where(x => x.Gc > 0).Select(x => x.Gc).ToList();
            return string.Create(CultureInfo.InvariantCulture, $"{paused.Count} of {slow.Count}{(paused.Count > 0 ? $" ({Stats.Percentile(paused, 50):0.0} ms)" : "")}");
        }
    }

    public static async Task<List<Row>> RunAsync(string storage, int count)
    {
        var rows = new List<Row>();
        (string Name, bool SameProcess, bool Notices)[] cases =
        [
            ("producer in the instance's process", true, false),
            ("producer in another process, append notices through the server", false, true),
            ("producer in another process, no server (polling only)", false, false),
        ];
        foreach (TimeSpan every in new[] { TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(500) })
        {
            foreach ((string name, bool sameProcess, bool notices) in cases)
            {
                if (sameProcess && every > TimeSpan.FromMilliseconds(20))
                {
                    continue; // the doorbell does not depend on the rate
                }

                int n = every > TimeSpan.FromMilliseconds(100) ? Math.Max(20, count / 8) : count;
                var gc = new List<double>();
                var sends = new List<double>();
                var rings = new List<long>();
                var noticeCounts = new long[2];
                List<double> millis = await MeasureAsync(storage, sameProcess, notices, every, n, gc, sends, rings, noticeCounts);
                rows.Add(new Row(name, every, millis, gc, sends, rings, [.. Enumerable.Range(0, n).Select(i => Started["e" + i.ToString(CultureInfo.InvariantCulture)])], string.Create(CultureInfo.InvariantCulture, $"notice POSTs {noticeCounts[0]} sent, {noticeCounts[1]} failed")));
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"latency: {Markup.Escape(name)}, 1 event / {every.TotalMilliseconds:0} ms: p50 {Stats.Percentile(rows[^1].Millis, 50):0.0} ms, p99 {Stats.Percentile(rows[^1].Millis, 99):0.0} ms");
            }
        }

        return rows;
    }

    /// <summary>Append -> handler start of <paramref name="count"/> events, one every <paramref name="every"/>, with a warm instance at default settings.</summary>
    public static async Task<List<double>> MeasureAsync(string storage, bool sameProcess, bool notices, TimeSpan every, int count, List<double>? gcMillis = null, List<double>? sendMillis = null, List<long>? rings = null, long[]? noticeCounts = null)
    {
        string container = $"lat-{DateTime.UtcNow:HHmmssfff}";
        var setup = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
        await setup.CreateStreamAsync(new StreamDefinition { Name = "bench-lat" });
        Started.Clear();
        PauseAtStart.Clear();
        int http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();
        Uri? serverUrl = notices ? new Uri($"http://127.0.0.1:{http}/") : null;
        WebApplication? server = null;
        if (notices)
        {
            server = ServerApp.Build(["--http-port", $"{http}", "--grpc-port", $"{grpc}", $"--FAAS_STORAGE={storage}", $"--FAAS_CONTAINER={container}", "--Logging:LogLevel:Default=Warning"]);
            await server.StartAsync();
        }

        try
        {
            await using FunctionsApp app = BenchApp.Build(storage, container, 100, 1, "00:00:00.100", typeof(LatencyFunctions), serverUrl: serverUrl);
            await app.StartAsync();
            if (server is not null)
            {
                // Warm means the instance's watch of the server's append notices is connected (it connects as the
                // instance starts; appends before that are found by a poll, as they would be at any instance's start).
                AppendWatchers watchers = server.Services.GetRequiredService<LagService>().Watchers;
                for (var waited = Stopwatch.StartNew(); watchers.Count("bench-lat") == 0; await Task.Delay(10))
                {
                    if (waited.Elapsed > TimeSpan.FromSeconds(30))
                    {
                        throw new InvalidOperationException("The instance did not watch the server's append notices within 30 s.");
                    }
                }
            }

            // Another process has a doorbell of its own: only a notice (or a poll) tells the instance.
            var producerOptions = new EventLogClientOptions { ContainerName = container, ServerUrl = serverUrl };
            if (!sameProcess)
            {
                producerOptions.Bell = new AppendBell();
            }

            EventLogClient producerLog = EventLogClient.FromSetting(storage, producerOptions);
            await using EventProducerClient p = producerLog.CreateProducer("bench-lat", new EventProducerOptions { Linger = TimeSpan.Zero });
            // The instance's doorbell (the process's shared one, rung by notices): when each ring came.
            using var watching = new CancellationTokenSource();
            Task ringing = rings is null || sameProcess ? Task.CompletedTask : RecordRingsAsync(setup.Container.Uri, rings, watching.Token);
            List<double> millis = await BenchApp.ProbeLatencyAsync(p, Started, count, every, PauseAtStart, gcMillis, sendMillis);
            await watching.CancelAsync();
            await ringing;
            if (noticeCounts is not null && producerLog.Segments.Store.Notices is { } sentNotices)
            {
                noticeCounts[0] = sentNotices.Sent;
                noticeCounts[1] = sentNotices.Failed;
            }
            await app.StopAsync();
            return millis;
        }
        finally
        {
            if (server is not null)
            {
                await server.StopAsync();
                await server.DisposeAsync();
            }
        }
    }

    private static async Task RecordRingsAsync(Uri container, List<long> rings, CancellationToken cancellationToken)
    {
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            Task rang = AppendBell.Shared.Next(container, "bench-lat", 0);
            if (await Task.WhenAny(rang, cancelled) != rang)
            {
                return;
            }

            lock (rings)
            {
                rings.Add(Stopwatch.GetTimestamp());
            }
        }
    }
}
