using System.Diagnostics;
using System.Globalization;
using System.Text;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Schemas;
using FaasEvents.Log.Streams;
using Spectre.Console;

namespace FaasEvents.Bench;

/// <summary>
/// What a stream contract costs the producer: the same 1 KiB JSON orders sent by the same producer settings to a
/// stream without a schema and to one with a schema (every event checked and stamped with its version), on the same
/// Azurite in one run, the order of the two alternating by round. Goal (issue 16): at least 0.8x.
/// </summary>
internal static class SchemaBench
{
    private const string Schema = """
        {"type": "object", "additionalProperties": false, "required": ["orderId", "customer", "amount", "currency", "lines", "note"],
         "properties": {
           "orderId": {"type": "string", "minLength": 1}, "customer": {"type": "string"}, "amount": {"type": "number", "minimum": 0},
           "currency": {"enum": ["EUR", "USD", "GBP"]}, "express": {"type": "boolean"},
           "lines": {"type": "array", "maxItems": 50, "items": {"type": "object", "required": ["sku", "qty"], "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}}},
           "note": {"type": "string", "maxLength": 2000}}}
        """;

    public static async Task RunAsync(string storage, string outDir, string root, int events, int rounds)
    {
        var plain = new List<double>();
        var typed = new List<double>();
        List<LogEvent> Make() => Enumerable.Range(0, events).Select(Order).ToList();
        for (int round = 0; round <= rounds; round++) // round 0 warms up both paths and is discarded
        {
            var log = EventLogClient.FromSetting(storage, new EventLogClientOptions { ContainerName = $"sb{round}-{DateTime.UtcNow:HHmmssfff}" });
            await log.Container.CreateIfNotExistsAsync();
            await log.CreateStreamAsync(new StreamDefinition { Name = "plain", Partitions = 1 });
            await log.CreateStreamAsync(new StreamDefinition { Name = "typed", Partitions = 1 });
            await log.Schemas.RegisterAsync("typed", Schema);
            double p = 0, t = 0;
            foreach (string stream in round % 2 == 0 ? new[] { "plain", "typed" } : ["typed", "plain"])
            {
                double rate = await ProduceAsync(log, stream, Make());
                if (stream == "plain")
                {
                    p = rate;
                }
                else
                {
                    t = rate;
                }
            }

            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"round {round}{(round == 0 ? " (warm-up)" : "")}: without schema {p:N0} ev/s, with schema {t:N0} ev/s ({t / p:0.00}x)");
            if (round > 0)
            {
                plain.Add(p);
                typed.Add(t);
            }
        }

        var validator = new SchemaValidator(new StreamSchema("typed", 1, Schema, DateTimeOffset.UtcNow));
        List<LogEvent> sample = Enumerable.Range(0, 20_000).Select(Order).ToList();
        long start = Stopwatch.GetTimestamp();
        foreach (LogEvent e in sample)
        {
            _ = validator.Validate(e);
        }

        double micros = Stopwatch.GetElapsedTime(start).TotalMilliseconds * 1000 / sample.Count;
        List<double> ratios = typed.Zip(plain, (t, p) => t / p).ToList();
        string commit = BenchApp.Commit(root);
        var md = new StringBuilder();
        md.AppendLine("# Stream contracts: producing with a schema");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}. Commit {commit}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/FaasEvents.Bench -- schema [--events {events}] [--rounds {rounds}]` (starts its own in-memory Azurite).");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{events:N0} JSON orders of ~1 KiB (7 fields, 3 order lines, a 900-character note) per side and round, sent by one producer in calls of 5,000 (MaxBatchBytes 1 MiB, linger 5 ms) to a 1-partition stream without a schema and to one whose schema (closed object, enum, bounds, an array of objects) checks every event and stamps its version as `dataschema`. The two sides alternate order by round; round 0 warms up and is discarded.");
        md.AppendLine();
        md.AppendLine("| | without schema, events/s | with schema, events/s | ratio |");
        md.AppendLine("|---|---|---|---|");
        for (int i = 0; i < ratios.Count; i++)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| round {i + 1} | {plain[i]:N0} | {typed[i]:N0} | {ratios[i]:0.00}x |");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"| **median** | {Stats.Percentile(plain, 50):N0} | {Stats.Percentile(typed, 50):N0} | **{Stats.Percentile(ratios, 50):0.00}x** (range {ratios.Min():0.00}-{ratios.Max():0.00}; goal 0.8x) |");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Checking one event alone (parse + JSON Schema evaluation, no storage): {micros:0.0} µs on this machine ({sample.Count:N0} events, one thread).");
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "schema.md"), md.ToString());
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"median ratio {Stats.Percentile(ratios, 50):0.00}x; one check {micros:0.0} µs; wrote {Path.Combine(outDir, "schema.md")}");
    }

    private static async Task<double> ProduceAsync(EventLogClient log, string stream, List<LogEvent> batch)
    {
        await using EventProducerClient producer = log.CreateProducer(stream, new EventProducerOptions { MaxBatchBytes = 1024 * 1024, Linger = TimeSpan.FromMilliseconds(5) });
        await producer.SendAsync(Order(1_000_000_000)); // warm: blob created, schema looked up
        var sw = Stopwatch.StartNew();
        var inFlight = new List<Task>();
        for (int i = 0; i < batch.Count; i += 5000)
        {
            inFlight.Add(producer.SendBatchAsync(batch.GetRange(i, Math.Min(5000, batch.Count - i))));
        }

        await Task.WhenAll(inFlight);
        return batch.Count / sw.Elapsed.TotalSeconds;
    }

    private static LogEvent Order(int n) => new($"o-{n}", "/bench/orders", "com.example.order.created")
    {
        DataContentType = "application/json",
        Data = BinaryData.FromString(string.Create(CultureInfo.InvariantCulture, $$"""{"orderId":"o-{{n}}","customer":"c-{{n % 500}}","amount":{{n % 1000}}.5,"currency":"EUR","express":{{(n % 2 == 0 ? "true" : "false")}},"lines":[{"sku":"a","qty":1},{"sku":"b","qty":2},{"sku":"c","qty":3}],"note":"{{new string('x', 900)}}"}""")),
    };
}
