using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using FaasEvents.DevStorage;
using FaasEvents.Functions;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// FaasEvents beside what a user would pick instead, on the same machine and the same Azurite: the Azure Storage Queues
/// pattern (a producer putting one message per event, a polling consumer receiving 32 at a time and deleting each
/// handled message) and direct HTTP push 1:1 (the Knative pattern: the producer POSTs each event to the consumer).
/// Throughput end to end (first send to last handler start), latency at a steady rate, and what happens to events
/// sent while the consumer is down.
/// </summary>
internal static class AlternativesBench
{
    private const int InFlight = 32, QueueReceivers = 4, Partitions = 8, DownEvents = 200;
    private static readonly TimeSpan QueueEmptyPoll = TimeSpan.FromMilliseconds(100);
    private static readonly ConcurrentDictionary<string, long> Handled = new(StringComparer.Ordinal);

    public static class Functions
    {
        [Function("alt-handler")]
        public static void Run([EventTrigger("alt-orders")] LogEvent e) => Handled.TryAdd(e.Id, Stopwatch.GetTimestamp());
    }

    private sealed record Run(double EventsPerSecond, double RequestsPerEvent);

    private sealed record Outage(string Pattern, int Sent, int SendFailures, int Delivered, string Note);

    public static async Task RunAsync(string storage, string root, string outDir, int events, int latencyEvents, int rounds)
    {
        string[] patterns = ["FaasEvents, `SendAsync` per event", "FaasEvents, `SendBatchAsync` of 1,000", $"Storage Queues ({QueueReceivers} receive loops of 32)", "HTTP push 1:1"];
        var runs = patterns.ToDictionary(p => p, _ => new List<Run>());
        for (int round = 0; round <= rounds; round++)
        {
            Run[] r = [await FaasAsync(storage, events, 1), await FaasAsync(storage, events, 1_000), await QueueAsync(root, events), await PushAsync(events)];
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"round {round}{(round == 0 ? " (warm-up)" : "")}: " + string.Join(", ", patterns.Zip(r, (p, x) => $"{Markup.Escape(p)} {x.EventsPerSecond:N0}/s")));
            if (round > 0)
            {
                for (int i = 0; i < r.Length; i++)
                {
                    runs[patterns[i]].Add(r[i]);
                }
            }
        }

        await using QueueAzurite queues = await QueueAzurite.StartAsync(root);
        var latency = new Dictionary<string, List<double>>
        {
            [patterns[0]] = await WarmLatencyBench.MeasureAsync(storage, sameProcess: false, notices: true, TimeSpan.FromMilliseconds(20), latencyEvents),
            [patterns[2]] = await QueueLatencyAsync(queues.ConnectionString, latencyEvents),
            [patterns[3]] = await PushLatencyAsync(latencyEvents),
        };
        Outage[] outages = [await FaasOutageAsync(storage), await QueueOutageAsync(queues.ConnectionString), await PushOutageAsync()];
        string md = Report(patterns, runs, latency, outages, events, latencyEvents, rounds, BenchApp.Commit(root));
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "alternatives.md"), md);
        AnsiConsole.WriteLine(md);
    }

    private static string Payload(string id) => $"{{\"id\":\"{id}\",\"customer\":\"c{id.Length}\",\"note\":\"{new string('x', 960)}\"}}";

    /// <summary>Events sent in calls of <paramref name="call"/> (1: one <c>SendAsync</c> per event), <see cref="InFlight"/> calls at a time.</summary>
    private static async Task<Run> FaasAsync(string storage, int events, int call)
    {
        string container = $"alt-{DateTime.UtcNow:HHmmssfff}";
        var counter = new StorageRequestCounter();
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container, StorageOptions = counter.CreateOptions() });
        await log.CreateStreamAsync(new StreamDefinition { Name = "alt-orders", Partitions = Partitions });
        Handled.Clear();
        await using FunctionsApp app = BenchApp.Build(storage, container, 100, 10, "00:00:00.100", typeof(Functions), counter.CreateOptions());
        await app.StartAsync();
        int before = counter.Total;
        var sw = Stopwatch.StartNew();
        await using (EventProducerClient producer = log.CreateProducer("alt-orders"))
        {
            static LogEvent Order(int i)
            {
                string id = "f" + i.ToString(CultureInfo.InvariantCulture);
                return new LogEvent(id, "/bench/alt", "order") { PartitionKey = "k" + (i % 1000).ToString(CultureInfo.InvariantCulture), Data = BinaryData.FromString(Payload(id)) };
            }

            await Parallel.ForEachAsync(Enumerable.Range(0, (events + call - 1) / call), new ParallelOptions { MaxDegreeOfParallelism = InFlight }, async (c, ct) =>
            {
                if (call == 1)
                {
                    await producer.SendAsync(Order(c), ct);
                }
                else
                {
                    await producer.SendBatchAsync(Enumerable.Range(c * call, Math.Min(call, events - (c * call))).Select(Order), ct);
                }
            });
        }

        double sent = sw.Elapsed.TotalSeconds;
        await UntilAsync(() => Handled.Count >= events);
        double seconds = sw.Elapsed.TotalSeconds;
        int requests = counter.Total - before;
        Console.WriteLine($"FaasEvents, calls of {call}: sent in {sent:0.00} s, handled in {seconds:0.00} s; {counter}");
        await app.StopAsync();
        return new Run(events / seconds, requests / (double)events);
    }

    private static QueueClient Queue(string connection, StorageRequestCounter? counter = null)
    {
        var options = new QueueClientOptions();
        if (counter is not null)
        {
            options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        }

        return new QueueClient(connection, $"alt-{Guid.NewGuid():N}", options);
    }

    /// <summary>Receive loops: up to 32 messages each, handle, delete each handled message; poll again after 100 ms when empty.</summary>
    private static Task ConsumeAsync(QueueClient queue, ConcurrentDictionary<string, long> handled, int loops, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, loops).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                QueueMessage[] got;
                try
                {
                    got = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30), stop)).Value;
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                if (got.Length == 0)
                {
                    await Task.Delay(QueueEmptyPoll, stop).ContinueWith(_ => { }, TaskScheduler.Default);
                    continue;
                }

                await Task.WhenAll(got.Select(async m =>
                {
                    handled.TryAdd(m.MessageText[7..m.MessageText.IndexOf('"', 7)], Stopwatch.GetTimestamp());
                    try
                    {
                        await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt, CancellationToken.None);
                    }
                    catch (RequestFailedException ex) when (ex.Status == 404)
                    {
                        // Its visibility timeout ran out before the delete (a loaded machine): the queue gave it to a
                        // receiver again (the at-least-once redelivery of this pattern), and that receiver deletes it.
                    }
                }));
            }
        })));

    /// <summary>
    /// The queue pattern on an Azurite queue service of its own: the emulator's cost per request grows with every message
    /// it ever held (its queue service was CPU-bound at 127-223 events/s in the third round of one process, 600+ in the
    /// first), which Azure's queues do not.
    /// </summary>
    private static async Task<Run> QueueAsync(string root, int events)
    {
        await using QueueAzurite queues = await QueueAzurite.StartAsync(root);
        var counter = new StorageRequestCounter();
        QueueClient queue = Queue(queues.ConnectionString, counter);
        await queue.CreateAsync();
        var handled = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource();
        int before = counter.Total;
        var sw = Stopwatch.StartNew();
        Task consumer = ConsumeAsync(queue, handled, QueueReceivers, stop.Token);
        await Parallel.ForEachAsync(Enumerable.Range(0, events), new ParallelOptions { MaxDegreeOfParallelism = InFlight }, async (i, ct) =>
            await queue.SendMessageAsync(Payload("q" + i.ToString(CultureInfo.InvariantCulture)), ct));
        await UntilAsync(() => handled.Count >= events);
        double seconds = sw.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await consumer;
        int requests = counter.Total - before;
        await queue.DeleteAsync();
        return new Run(events / seconds, requests / (double)events);
    }

    /// <summary>A consumer with an HTTP endpoint the producer POSTs each event to (its id in <c>ce-id</c>).</summary>
    private static async Task<WebApplication> StartReceiverAsync(int port, ConcurrentDictionary<string, long> handled)
    {
        WebApplicationBuilder b = WebApplication.CreateSlimBuilder();
        b.Logging.ClearProviders();
        b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        WebApplication app = b.Build();
        app.MapPost("/events", async (HttpRequest r) =>
        {
            handled.TryAdd(r.Headers["ce-id"].ToString(), Stopwatch.GetTimestamp());
            using var body = new StreamReader(r.Body);
            await body.ReadToEndAsync();
            return Results.Ok();
        });
        await app.StartAsync();
        return app;
    }

    private static HttpClient PushClient(int port) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = InFlight }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };

    private static async Task PostAsync(HttpClient http, string id, CancellationToken ct)
    {
        using var content = new StringContent(Payload(id), Encoding.UTF8, "application/json");
        content.Headers.Add("ce-id", id);
        using HttpResponseMessage response = await http.PostAsync(new Uri("events", UriKind.Relative), content, ct);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<Run> PushAsync(int events)
    {
        int port = AzuriteProcess.GetFreePort();
        var handled = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        await using WebApplication receiver = await StartReceiverAsync(port, handled);
        using HttpClient http = PushClient(port);
        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, events), new ParallelOptions { MaxDegreeOfParallelism = InFlight }, async (i, ct) =>
            await PostAsync(http, "p" + i.ToString(CultureInfo.InvariantCulture), ct));
        double seconds = sw.Elapsed.TotalSeconds;
        await receiver.StopAsync();
        return new Run(events / seconds, 0);
    }

    private static async Task<List<double>> QueueLatencyAsync(string connection, int count)
    {
        QueueClient queue = Queue(connection);
        await queue.CreateAsync();
        var handled = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource();
        Task consumer = ConsumeAsync(queue, handled, 1, stop.Token);
        List<double> millis = await BenchApp.ProbeAsync(id => queue.SendMessageAsync(Payload(id)), handled, count, prefix: "l");
        await stop.CancelAsync();
        await consumer;
        await queue.DeleteAsync();
        return millis;
    }

    private static async Task<List<double>> PushLatencyAsync(int count)
    {
        int port = AzuriteProcess.GetFreePort();
        var handled = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        await using WebApplication receiver = await StartReceiverAsync(port, handled);
        using HttpClient http = PushClient(port);
        List<double> millis = await BenchApp.ProbeAsync(id => PostAsync(http, id, CancellationToken.None), handled, count, prefix: "l");
        await receiver.StopAsync();
        return millis;
    }

    private static async Task<Outage> FaasOutageAsync(string storage)
    {
        string container = $"alt-down-{DateTime.UtcNow:HHmmssfff}";
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
        await log.CreateStreamAsync(new StreamDefinition { Name = "alt-orders", Partitions = Partitions });
        Handled.Clear();
        int failures = 0;
        await using (EventProducerClient producer = log.CreateProducer("alt-orders"))
        {
            for (int i = 0; i < DownEvents; i++)
            {
                try
                {
                    string id = "d" + i.ToString(CultureInfo.InvariantCulture);
                    await producer.SendAsync(new LogEvent(id, "/bench/alt", "order") { Data = BinaryData.FromString(Payload(id)) });
                }
                catch (EventLogException)
                {
                    failures++;
                }
            }
        }

        await using FunctionsApp app = BenchApp.Build(storage, container, 100, 10, "00:00:00.100", typeof(Functions));
        await app.StartAsync(); // the consumer comes back
        await UntilAsync(() => Handled.Count >= DownEvents, TimeSpan.FromSeconds(60));
        await app.StopAsync();
        return new Outage("FaasEvents, `SendAsync` per event", DownEvents, failures, Handled.Count, "kept in the log; handled when an instance starts (KEDA wakes one on the lag)");
    }

    private static async Task<Outage> QueueOutageAsync(string connection)
    {
        QueueClient queue = Queue(connection);
        await queue.CreateAsync();
        for (int i = 0; i < DownEvents; i++)
        {
            await queue.SendMessageAsync(Payload("d" + i.ToString(CultureInfo.InvariantCulture)));
        }

        var handled = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource();
        Task consumer = ConsumeAsync(queue, handled, 1, stop.Token); // the consumer comes back
        await UntilAsync(() => handled.Count >= DownEvents, TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await consumer;
        await queue.DeleteAsync();
        return new Outage("Storage Queues", DownEvents, 0, handled.Count, "kept in the queue; handled when the consumer polls again");
    }

    private static async Task<Outage> PushOutageAsync()
    {
        int port = AzuriteProcess.GetFreePort(); // nothing listens: the consumer is down
        using HttpClient http = PushClient(port);
        int failures = 0;
        for (int i = 0; i < DownEvents; i++)
        {
            try
            {
                await PostAsync(http, "d" + i.ToString(CultureInfo.InvariantCulture), CancellationToken.None);
            }
            catch (HttpRequestException)
            {
                failures++;
            }
        }

        var handled = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        await using WebApplication receiver = await StartReceiverAsync(port, handled); // the consumer comes back: nothing arrives
        await Task.Delay(2000);
        await receiver.StopAsync();
        return new Outage("HTTP push 1:1", DownEvents, failures, handled.Count, "refused while down; lost unless every producer keeps and re-sends them itself");
    }

    private static async Task UntilAsync(Func<bool> done, TimeSpan? limit = null)
    {
        var sw = Stopwatch.StartNew();
        while (!done() && sw.Elapsed < (limit ?? TimeSpan.FromMinutes(10)))
        {
            await Task.Delay(5);
        }
    }

    private static string Report(string[] patterns, Dictionary<string, List<Run>> runs, Dictionary<string, List<double>> latency, Outage[] outages, int events, int latencyEvents, int rounds, string commit)
    {
        double Median(string p) => Stats.Percentile(runs[p].Select(r => r.EventsPerSecond).ToList(), 50);
        var md = new StringBuilder();
        md.AppendLine("# FaasEvents beside the alternatives");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Commit {commit}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, Azurite (npm, in memory) for blobs and queues, every client on loopback in one process. Command: `dotnet run -c Release --project bench/FaasEvents.Bench -- alternatives [--events {events}] [--rounds {rounds}] [--latency-events {latencyEvents}]`.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Throughput: {events:N0} events of 1 KiB, {InFlight} calls in flight, consumed at the same time; first send to last handler start");
        md.AppendLine();
        md.AppendLine("| pattern | events/s, median | range over rounds | vs Storage Queues | storage requests per event |");
        md.AppendLine("| --- | ---: | --- | ---: | ---: |");
        foreach (string p in patterns)
        {
            List<double> xs = [.. runs[p].Select(r => r.EventsPerSecond)];
            double requests = Stats.Percentile(runs[p].Select(r => r.RequestsPerEvent).ToList(), 50);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {p} | {Median(p):N0} | {xs.Min():N0} - {xs.Max():N0} ({rounds} rounds) | {Median(p) / Median(patterns[2]):0.0}x | {(requests == 0 ? "none (no storage)" : requests.ToString("0.000", CultureInfo.InvariantCulture))} |");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Storage Queues: one Put Message per event, {QueueReceivers} loops each receiving up to 32 messages (30 s visibility) and deleting every handled message; an empty receive waits {QueueEmptyPoll.TotalMilliseconds:0} ms (Azure Functions' queue trigger backs off further when idle, up to a minute by default). The queue pattern runs on an Azurite queue service of its own, started afresh for each round, with its extent garbage collection moved from every minute to once a day (as the blob service's here): that collection's removal of deleted messages' data blocked every queue request for minutes once some 20,000 messages had been handled (a `node --prof` profile: 84% of the time in LokiJS re-sorting an index per removed extent, `MemoryExtentStore.deleteExtents`), and the emulator's cost per request grows with the messages it held, so one long-lived queue service gave 26-307 events/s between rounds before 2026-12-07. The queue service is CPU-bound in this run (about 85% of a core). HTTP push: each event POSTed to the consumer, which handles it before answering. FaasEvents: an 8-partition stream, one handler instance at default settings except checkpoint every 10 batches; `SendAsync` per event (the producer merges the calls waiting for a partition into one append) or `SendBatchAsync` of 1,000 (as `faas produce --file` sends a file). FaasEvents' producer and consumer share one Azurite blob service, a single Node.js process, so a pattern's throughput mostly follows how many storage requests it makes per event (last column); HTTP push makes none and stores nothing.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Latency: one event every 20 ms to a warm consumer, send to handler start ({latencyEvents} events)");
        md.AppendLine();
        md.AppendLine("| pattern | p50 ms | p99 ms |");
        md.AppendLine("| --- | ---: | ---: |");
        foreach (string p in patterns.Where(latency.ContainsKey))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {(p == patterns[0] ? "FaasEvents, producer in another process, append notices through the server" : p)} | {Stats.Percentile(latency[p], 50):0.0} | {Stats.Percentile(latency[p], 99):0.0} |");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## The consumer is down: {DownEvents} events sent, then the consumer starts");
        md.AppendLine();
        md.AppendLine("| pattern | sent | refused at send | handled after the consumer came back | |");
        md.AppendLine("| --- | ---: | ---: | ---: | --- |");
        foreach (Outage o in outages)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {o.Pattern} | {o.Sent} | {o.SendFailures} | {o.Delivered} | {o.Note} |");
        }

        return md.ToString();
    }
}
