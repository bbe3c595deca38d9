using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FaasEvents.DevStorage;
using FaasEvents.Functions;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Server;
using FaasEvents.Server.Scaling.Grpc;
using FaasEvents.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// What FaasEvents costs on Azure, from counted storage requests (deterministic up to lease renewals and polls, so
/// no rounds): every request of each scenario is counted by operation, classed as Azure bills it, and priced with
/// bench/azure-prices.json. Scenarios: produce, a handler with one output per event, a materializer, the scaler
/// watching a stream at zero instances, and a running instance with nothing to do.
/// </summary>
internal static class CostBench
{
    private const string Orders = "cost-orders", BulkOrders = "cost-orders-bulk";

    /// <summary>The bulk profile: what a producer and a handler tuned for cost rather than latency send and take at once.</summary>
    private const int BulkCall = 10_000, BulkBatch = 1_000;
    private const int Partitions = 8, Customers = 1_000;

    public sealed record Order(string Customer, int Amount);

    public sealed record Audit(string Order, string Customer);

    public sealed record Total(int Orders, long Amount);

    public static class Handler
    {
        [Function("cost-audit")]
        [EventOutput("cost-audit-out")]
        public static Audit Run([EventTrigger(Orders)] LogEvent e) => new(e.Id, e.Data!.ToObjectFromJson<Order>()!.Customer);
    }

    public static class BulkHandler
    {
        [Function("cost-audit-bulk")]
        [EventOutput("cost-audit-bulk-out")]
        public static Audit Run([EventTrigger(BulkOrders)] LogEvent e) => new(e.Id, e.Data!.ToObjectFromJson<Order>()!.Customer);
    }

    public static class Materializer
    {
        [Function("cost-totals")]
        public static Total? Apply([MaterializerTrigger(Orders)] Order? o, [CurrentState] Total? current) =>
            o is null ? null : new Total((current?.Orders ?? 0) + 1, (current?.Amount ?? 0) + o.Amount);
    }

    public static async Task RunAsync(string storage, string outDir, string root, int events, int size, int idleSeconds, string label)
    {
        Prices prices = JsonSerializer.Deserialize<Prices>(await File.ReadAllTextAsync(Path.Combine(root, "bench", "azure-prices.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
        string container = $"cost-{DateTime.UtcNow:HHmmssfff}";
        var scenarios = new List<Scenario>
        {
            await ProduceFileAsync(storage, container, events, size),
        };
        (Scenario handler, Scenario instanceIdle) = await HandlerAsync(storage, container, events, Math.Min(idleSeconds, 60));
        scenarios.Add(handler);
        scenarios.Add(await ProduceAsync(storage, container, BulkOrders, "produce (bulk)", BulkCall, events, size));
        scenarios.Add(await BulkHandlerAsync(storage, container, events));
        scenarios.Add(await MaterializerAsync(storage, container, events));
        scenarios.Add(instanceIdle);
        scenarios.Add(await ScalerIdleAsync(storage, container, idleSeconds));

        var result = new CostResult(label, BenchApp.Commit(root), DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), Environment.ProcessorCount, events, size, scenarios);
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, $"cost-{label}.json"), JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        List<CostResult> runs = [.. Directory.GetFiles(outDir, "cost-*.json").Select(f => JsonSerializer.Deserialize<CostResult>(File.ReadAllText(f))!).OrderBy(r => r.Date, StringComparer.Ordinal)];
        string md = Report(runs, prices);
        await File.WriteAllTextAsync(Path.Combine(outDir, "cost.md"), md);
        AnsiConsole.WriteLine(md);
        AnsiConsole.MarkupLine($"Wrote {Markup.Escape(Path.Combine(outDir, "cost.md"))}");
    }

    /// <summary>The producer as <c>faas produce --file</c> sends a file: <see cref="BulkSender"/>, full 1 MiB blocks.</summary>
    private static async Task<Scenario> ProduceFileAsync(string storage, string container, int events, int size)
    {
        await CreateStreamsAsync(storage, container, Orders);
        var counter = new StorageRequestCounter();
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container, StorageOptions = counter.CreateOptions() });
        var sw = Stopwatch.StartNew();
        await BulkSender.SendAllAsync(log, Orders, [.. Enumerable.Range(0, events).Select(n => OrderEvent(n, size))]);
        Console.WriteLine($"produce: {counter.Total} requests in {sw.Elapsed.TotalSeconds:0.0} s");
        return new Scenario("produce", $"{events:N0} events of {size} B to {Partitions} partitions, as `faas produce --file` sends a file (`BulkSender`: calls of 500, every block but each partition's last filled to 1 MiB)", events, 0, counter.ByOperation.ToDictionary());
    }

    /// <summary>The producer tuned for cost: events keyed by customer in calls of <paramref name="call"/>, one call at a time.</summary>
    private static async Task<Scenario> ProduceAsync(string storage, string container, string stream, string name, int call, int events, int size)
    {
        await CreateStreamsAsync(storage, container, stream);
        var counter = new StorageRequestCounter();
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container, StorageOptions = counter.CreateOptions() });
        var sw = Stopwatch.StartNew();
        await using (EventProducerClient producer = log.CreateProducer(stream))
        {
            for (int i = 0; i < events; i += call)
            {
                await producer.SendBatchAsync([.. Enumerable.Range(i, Math.Min(call, events - i)).Select(n => OrderEvent(n, size))]);
            }
        }

        Console.WriteLine($"{name}: {counter.Total} requests in {sw.Elapsed.TotalSeconds:0.0} s");
        return new Scenario(name, $"{events:N0} events of {size} B to {Partitions} partitions, `SendBatchAsync` of {call:N0}, one call at a time", events, 0, counter.ByOperation.ToDictionary());
    }

    /// <summary>Creates <paramref name="stream"/> and its handler's output stream.</summary>
    private static async Task CreateStreamsAsync(string storage, string container, string stream)
    {
        var setup = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
        await setup.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = Partitions });
        await setup.CreateStreamAsync(new StreamDefinition { Name = stream.Replace("orders", "audit", StringComparison.Ordinal) + "-out", Partitions = Partitions });
    }

    /// <summary>Order <paramref name="n"/>: about <paramref name="size"/> bytes of JSON, keyed by one of the customers.</summary>
    private static LogEvent OrderEvent(int n, int size)
    {
        string customer = "c" + (n % Customers).ToString(CultureInfo.InvariantCulture);
        return new LogEvent("o" + n.ToString(CultureInfo.InvariantCulture), "/bench/cost", "order") { PartitionKey = customer, Data = BinaryData.FromObjectAsJson(new { customer, amount = n % 100, note = new string('x', Math.Max(0, size - 60)) }) };
    }

    /// <summary>The same handler tuned for cost: maxBatchSize 1,000 (fewer, larger output appends), checkpoint every 10 batches.</summary>
    private static async Task<Scenario> BulkHandlerAsync(string storage, string container, int events)
    {
        var counter = new StorageRequestCounter();
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
        await using FunctionsApp app = BenchApp.Build(storage, container, BulkBatch, 10, "00:00:00.100", typeof(BulkHandler), counter.CreateOptions());
        await app.StartAsync();
        while (await EndAsync(log, "cost-audit-bulk-out") < events || (await log.Checkpoints.ListAsync("cost-audit-bulk", BulkOrders)).Sum(c => c.NextOffset) < events)
        {
            await Task.Delay(20);
        }

        Dictionary<string, int> busy = counter.ByOperation.ToDictionary();
        await app.StopAsync();
        Console.WriteLine($"handler (bulk): {busy.Values.Sum()} requests for {events} events");
        return new Scenario("handler (bulk)", $"the same handler with maxBatchSize {BulkBatch:N0}, checkpoint every 10 batches, on the bulk-produced stream", events, 0, busy);
    }

    /// <summary>A handler with one output per event, one instance, from its start to its stop; then the same instance idle.</summary>
    private static async Task<(Scenario Busy, Scenario Idle)> HandlerAsync(string storage, string container, int events, int idleSeconds)
    {
        var counter = new StorageRequestCounter();
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
        await using FunctionsApp app = BenchApp.Build(storage, container, 100, 1, "00:00:00.100", typeof(Handler), counter.CreateOptions());
        await app.StartAsync();
        while (await EndAsync(log, "cost-audit-out") < events)
        {
            await Task.Delay(20);
        }

        while ((await log.Checkpoints.ListAsync("cost-audit", Orders)).Sum(c => c.NextOffset) < events)
        {
            await Task.Delay(20);
        }

        Dictionary<string, int> busy = counter.ByOperation.ToDictionary();
        Console.WriteLine($"handler: {busy.Values.Sum()} requests for {events} events; now idle for {idleSeconds} s");
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
        Dictionary<string, int> idle = Minus(counter.ByOperation.ToDictionary(), busy);
        await app.StopAsync();
        return (
            new Scenario("handler", "`[EventOutput]` handler, one output per event, 1 instance, the defaults (maxBatchSize 100, batchCheckpointFrequency 1): its start, every read, append, checkpoint and lease, until the last checkpoint", events, 0, busy),
            new Scenario("instance idle", $"that instance with nothing to do ({Partitions} partitions, pollInterval 100 ms), {idleSeconds} s: paid until KEDA's cooldown (default 300 s) scales it to zero", 0, idleSeconds, idle));
    }

    /// <summary>A materializer folding the same events into one total per customer, with its commits and changelog-free table.</summary>
    private static async Task<Scenario> MaterializerAsync(string storage, string container, int events)
    {
        var counter = new StorageRequestCounter();
        var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = container });
        await using FunctionsApp app = BenchApp.Build(storage, container, 100, 10, "00:00:00.100", typeof(Materializer), counter.CreateOptions());
        await app.StartAsync();
        while ((await log.Checkpoints.ListAsync("cost-totals", Orders)).Sum(c => c.NextOffset) < events)
        {
            await Task.Delay(20);
        }

        await app.StopAsync();
        Console.WriteLine($"materializer: {counter.Total} requests");
        return new Scenario("materializer", $"a materializer folding the events into {Customers:N0} customer totals (state committed every 5 s, snapshot + deltas), 1 instance, start to stop", events, 0, counter.ByOperation.ToDictionary());
    }

    /// <summary>
    /// The server with the stream at zero instances: KEDA holding StreamIsActive open for the function's ScaledObject
    /// and calling IsActive and GetMetrics every 30 s (its default pollingInterval), everything caught up.
    /// </summary>
    private static async Task<Scenario> ScalerIdleAsync(string storage, string container, int idleSeconds)
    {
        var counter = new StorageRequestCounter();
        int http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();
        WebApplication server = ServerApp.Build(
            ["--http-port", http.ToString(CultureInfo.InvariantCulture), "--grpc-port", grpc.ToString(CultureInfo.InvariantCulture), $"--FAAS_STORAGE={storage}", $"--FAAS_CONTAINER={container}", "--Logging:LogLevel:Default=Warning"],
            b => b.Services.AddSingleton(counter.CreateOptions()));
        await server.StartAsync();
        try
        {
            using GrpcChannel channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpc}");
            var scaler = new ExternalScaler.ExternalScalerClient(channel);
            var scaledObject = new ScaledObjectRef { Name = "cost-audit", Namespace = "default" };
            scaledObject.ScalerMetadata["stream"] = Orders;
            scaledObject.ScalerMetadata["consumerGroup"] = "cost-audit";
            string metric = (await scaler.GetMetricSpecAsync(scaledObject)).MetricSpecs[0].MetricName;
            using var stop = new CancellationTokenSource();
            using AsyncServerStreamingCall<IsActiveResponse> push = scaler.StreamIsActive(scaledObject, cancellationToken: stop.Token);
            Task held = DrainAsync(push);
            Dictionary<string, int> start = [];
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(2 * idleSeconds))
            {
                if (start.Count == 0 && sw.Elapsed >= TimeSpan.FromSeconds(idleSeconds))
                {
                    start = counter.ByOperation.ToDictionary(); // the first half settles (start, first reads, back-off), the second is counted
                    start[""] = 0;
                }

                await scaler.IsActiveAsync(scaledObject);
                await scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = scaledObject, MetricName = metric });
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Max(0.1, (start.Count == 0 ? idleSeconds : 2 * idleSeconds) - sw.Elapsed.TotalSeconds + 0.1))));
            }

            Dictionary<string, int> idle = Minus(counter.ByOperation.ToDictionary(), start);
            await stop.CancelAsync();
            await held;
            Console.WriteLine($"scaler idle: {idle.Values.Sum()} requests in {idleSeconds} s");
            return new Scenario("scaler idle", $"the server, one {Partitions}-partition stream at zero instances, KEDA holding StreamIsActive and calling IsActive + GetMetrics every 30 s, counted over {idleSeconds} s after {idleSeconds} s idle", 0, idleSeconds, idle);
        }
        finally
        {
            await server.StopAsync();
            await server.DisposeAsync();
        }
    }

    private static async Task DrainAsync(AsyncServerStreamingCall<IsActiveResponse> call)
    {
        try
        {
            await foreach (IsActiveResponse _ in call.ResponseStream.ReadAllAsync())
            {
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
        {
        }
    }

    private static async Task<long> EndAsync(EventLogClient log, string stream)
    {
        long sum = 0;
        for (int p = 0; p < Partitions; p++)
        {
            sum += (await log.GetPartitionAsync(stream, p)).EndOffset;
        }

        return sum;
    }

    private static Dictionary<string, int> Minus(Dictionary<string, int> after, Dictionary<string, int> before) =>
        after.Select(kv => (kv.Key, N: kv.Value - before.GetValueOrDefault(kv.Key))).Where(x => x.N > 0).ToDictionary(x => x.Key, x => x.N);

    /// <summary>The class Azure bills a request in (standard general-purpose v2; deletes are free).</summary>
    internal static string ClassOf(string operation) => operation switch
    {
        "AppendBlock" or "CreateBlob" or "PutBlock" or "PutBlockList" or "SetMetadata" => "write",
        "List" => "list",
        "GetBlob" => "read",
        "Delete" => "free",
        _ => "other", // properties, block lists, leases
    };

    private static double Dollars(Dictionary<string, int> requests, Prices p) => requests.Sum(kv => kv.Value * ClassOf(kv.Key) switch
    {
        "write" => p.BlobPer10kWrite,
        "list" => p.BlobPer10kList,
        "read" => p.BlobPer10kRead,
        "other" => p.BlobPer10kOther,
        _ => 0,
    } / 10_000);

    private static string Classes(Dictionary<string, int> requests, double per) =>
        string.Join(" / ", new[] { "write", "read", "list", "other" }.Select(c => (requests.Where(kv => ClassOf(kv.Key) == c).Sum(kv => kv.Value) / per).ToString(per == 1 ? "N0" : "0.0000", CultureInfo.InvariantCulture)));

    private static string Report(List<CostResult> runs, Prices p)
    {
        CostResult last = runs[^1];
        var md = new StringBuilder();
        md.AppendLine("# What FaasEvents costs on Azure");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Every storage request of each scenario counted by operation (an HTTP pipeline policy on every storage client the scenario's process has), classed as Azure bills it (standard general-purpose v2: Append Block, Put Blob/Block/Block List and Set Metadata are writes; List Blobs is list; Get Blob is read; properties and leases are other; deletes are free) and priced with `bench/azure-prices.json`: {p.Source} Recorded {p.Recorded}: writes ${p.BlobPer10kWrite} and lists ${p.BlobPer10kList} per 10,000, reads ${p.BlobPer10kRead}, other ${p.BlobPer10kOther}; data ${p.BlobPerGbMonth}/GB-month; Event Hubs Standard ${p.EventHubsStandardPerMillionEvents} per million ingress events plus ${p.EventHubsStandardPerThroughputUnitHour} per throughput unit-hour (${p.EventHubsStandardPerThroughputUnitHour * 24:0.00}/day, at least one).");
        md.AppendLine();
        md.AppendLine("Command: `dotnet run -c Release --project bench/FaasEvents.Bench -- cost [--events 10000] [--size 1024] [--idle-seconds 120] [--label NAME]` (starts its own in-memory Azurite). Request counts do not depend on the machine's speed, except polls and lease renewals, which depend on how long a scenario runs.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Latest run: {last.Label}, commit {last.Commit}, {last.Date} UTC, {last.Events:N0} events of {last.Size} B");
        md.AppendLine();
        md.AppendLine("| scenario | what | requests | per event (write / read / list / other) | $ per million events | $ per day |");
        md.AppendLine("| --- | --- | ---: | --- | ---: | ---: |");
        foreach (Scenario s in last.Scenarios)
        {
            double dollars = Dollars(s.Requests, p);
            string perEvent = s.Events > 0 ? $"{s.Requests.Values.Sum() / (double)s.Events:0.0000} ({Classes(s.Requests, s.Events)})" : "";
            string perMillion = s.Events > 0 ? (dollars / s.Events * 1_000_000).ToString("0.000", CultureInfo.InvariantCulture) : "";
            string perDay = s.Seconds > 0 ? $"{dollars / s.Seconds * 86_400:0.000} ({s.Requests.Values.Sum() / (double)s.Seconds:0.00} req/s)" : "";
            md.AppendLine(CultureInfo.InvariantCulture, $"| {s.Name} | {s.What} | {s.Requests.Values.Sum():N0} | {perEvent} | {perMillion} | {perDay} |");
        }

        md.AppendLine();
        md.AppendLine("## Per million events end to end, beside Event Hubs Standard");
        md.AppendLine();
        md.AppendLine("| run | commit | produce + handler (one output each) | same, bulk (calls of 10,000, maxBatchSize 1,000) | + materializer | scaler at zero instances, per stream-day | a running idle instance, per day | Event Hubs Standard: ingress per million | + 1 throughput unit per day |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (CostResult r in runs)
        {
            double PerMillion(string name) => r.Scenarios.FirstOrDefault(s => s.Name == name) is { Events: > 0 } s ? Dollars(s.Requests, p) / s.Events * 1_000_000 : double.NaN;
            double PerDay(string name) => r.Scenarios.FirstOrDefault(s => s.Name == name) is { Seconds: > 0 } s ? Dollars(s.Requests, p) / s.Seconds * 86_400 : double.NaN;
            double pipeline = PerMillion("produce") + PerMillion("handler");
            double bulk = PerMillion("produce (bulk)") + PerMillion("handler (bulk)");
            string bulkText = double.IsNaN(bulk) ? "not measured" : bulk.ToString("$0.000", CultureInfo.InvariantCulture);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Label} ({r.Date} UTC) | {r.Commit} | ${pipeline:0.000} | {bulkText} | ${pipeline + PerMillion("materializer"):0.000} | ${PerDay("scaler idle"):0.000} | ${PerDay("instance idle"):0.00} | ${p.EventHubsStandardPerMillionEvents:0.000} | ${p.EventHubsStandardPerThroughputUnitHour * 24:0.00} |");
        }

        md.AppendLine();
        md.AppendLine("Goals (issue 19): end to end <= $0.03 per million 1 KiB events; a stream at zero instances <= $0.01 per day. Data at rest is");
        md.AppendLine(CultureInfo.InvariantCulture, $"billed apart from requests on both: a million 1 KiB events retained for a month are about 1 GB, ${p.BlobPerGbMonth:0.000} on Blob hot LRS (Event Hubs Standard includes 84 GB per throughput unit and keeps events at most 7 days).");
        md.AppendLine();
        md.AppendLine("Requests by operation in the latest run:");
        md.AppendLine();
        foreach (Scenario s in last.Scenarios)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {s.Name}: {string.Join(", ", s.Requests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))}");
        }

        return md.ToString();
    }

    /// <summary>Prices per request class and Event Hubs' for comparison (bench/azure-prices.json).</summary>
    public sealed record Prices(string Recorded, string Source, double BlobPer10kWrite, double BlobPer10kList, double BlobPer10kRead, double BlobPer10kOther, double BlobPerGbMonth, double EventHubsStandardPerMillionEvents, double EventHubsStandardPerThroughputUnitHour);

    /// <summary>One scenario's requests: per event when <see cref="Events"/> is set, per second (idle) when <see cref="Seconds"/> is.</summary>
    public sealed record Scenario(string Name, string What, int Events, int Seconds, Dictionary<string, int> Requests);

    /// <summary>One run, kept as JSON so runs of other commits appear in the same table.</summary>
    public sealed record CostResult(string Label, string Commit, string Date, int Cores, int Events, int Size, List<Scenario> Scenarios);
}
