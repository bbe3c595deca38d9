using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using Spectre.Console;

namespace FaasEvents.Cli.Commands;

internal static class ProduceCommand
{
    public static Command Build()
    {
        var stream = new Argument<string>("stream") { Description = "Target stream." };
        var data = new Option<string?>("--data", "-d") { Description = "Event data (JSON unless --content-type says otherwise)." };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "JSON Lines file: one structured-mode CloudEvent per line; its 'partitionkey' extension is the key." };
        var key = new Option<string?>("--key", "-k") { Description = "Partition key (entity id)." };
        var type = new Option<string>("--type", "-t") { Description = "CloudEvents type.", DefaultValueFactory = _ => "dev.faasevents.cli" };
        var source = new Option<string>("--source", "-s") { Description = "CloudEvents source.", DefaultValueFactory = _ => "/faas/cli" };
        var id = new Option<string?>("--id") { Description = "CloudEvents id (default: a new GUID)." };
        var subject = new Option<string?>("--subject") { Description = "CloudEvents subject." };
        var contentType = new Option<string>("--content-type") { Description = "datacontenttype of --data.", DefaultValueFactory = _ => "application/json" };
        var tombstone = new Option<bool>("--tombstone") { Description = "Send a tombstone (no data) for --key: deletes the entity." };
        var partition = new Option<int?>("--partition") { Description = "Send to this partition instead of hashing the key." };
        var identity = new Option<string?>("--as") { Description = "The producer identity to append as (a stream with an owner accepts only its owner; default FAAS_IDENTITY)." };
        var command = new Command("produce", "Append an event (--data) or a JSON Lines file of CloudEvents (--file) to a stream.")
        {
            stream, data, file, key, type, source, id, subject, contentType, tombstone, partition, identity,
        };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string name = parse.GetRequiredValue(stream);
            FileInfo? path = parse.GetValue(file);
            if (path is not null)
            {
                if (parse.GetValue(data) is not null || parse.GetValue(tombstone))
                {
                    throw Usage("use either --file or --data/--tombstone, not both");
                }

                return await ProduceFileAsync(log, name, path, parse.GetValue(partition), parse.GetValue(identity), token);
            }

            LogEvent e = BuildEvent(parse.GetValue(data), parse.GetValue(tombstone), parse.GetValue(key), parse.GetRequiredValue(type), parse.GetRequiredValue(source), parse.GetValue(id), parse.GetValue(subject), parse.GetRequiredValue(contentType));
            await using EventProducerClient producer = log.CreateProducer(name, new EventProducerOptions { Linger = TimeSpan.Zero, Identity = parse.GetValue(identity) });
            EventPosition at = parse.GetValue(partition) is { } p ? await producer.SendAsync(e, p, token) : await producer.SendAsync(e, token);
            Console.WriteLine($"Produced event {e.Id} to '{name}' partition {at.Partition} at offset {at.Offset}.");
            return 0;
        }));
        return command;
    }

    private static LogEvent BuildEvent(string? data, bool tombstone, string? key, string type, string source, string? id, string? subject, string contentType)
    {
        if (tombstone)
        {
            if (key is null || data is not null)
            {
                throw Usage("--tombstone needs --key and no --data");
            }
        }
        else if (data is null)
        {
            throw Usage("give --data JSON (or --file events.jsonl, or --tombstone --key K)");
        }

        if (data is not null && CloudEventConverter.IsJson(contentType))
        {
            try
            {
                using var _ = JsonDocument.Parse(data);
            }
            catch (JsonException ex)
            {
                throw Usage($"--data is not valid JSON ({ex.Message}); pass --content-type text/plain for plain text");
            }
        }

        return new LogEvent(id ?? Guid.NewGuid().ToString(), source, type)
        {
            PartitionKey = key,
            Subject = subject,
            Time = DateTimeOffset.UtcNow,
            DataContentType = tombstone ? null : contentType,
            Data = data is null ? null : BinaryData.FromString(data),
        };
    }

    private static async Task<int> ProduceFileAsync(EventLogClient log, string stream, FileInfo path, int? partition, string? identity, CancellationToken token)
    {
        if (!path.Exists)
        {
            throw new FileNotFoundException($"File '{path.FullName}' does not exist.");
        }

        // Parse everything first: a bad line stops the command before anything is written.
        var events = new List<LogEvent>();
        long bytes = 0;
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path.FullName))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                byte[] utf8 = Encoding.UTF8.GetBytes(line);
                events.Add(CloudEventConverter.ParseStructuredJson(utf8));
                bytes += utf8.Length;
            }
            catch (EventLogException ex)
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, $"{path.Name} line {lineNumber}: {ex.Message} Nothing was produced.", ex);
            }
        }

        await log.GetStreamAsync(stream, token); // unknown stream: fail before the progress bar
        IReadOnlyList<EventPosition> positions = [];
        var sw = Stopwatch.StartNew();

        // Every event is known up front: BulkSender fills each Append Block to 1 MiB (what a file costs follows from its size).
        async Task Run(Action<int>? advance) => positions = await BulkSender.SendAllAsync(log, stream, events, partition, identity, advance, token);
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    ProgressTask task = ctx.AddTask($"Producing to {Markup.Escape(stream)}", maxValue: Math.Max(1, events.Count));
                    await Run(n => task.Increment(n));
                });
        }
        else
        {
            await Run(null);
        }

        sw.Stop();
        double seconds = Math.Max(sw.Elapsed.TotalSeconds, 1e-6);
        string partitions = string.Join(", ", positions.GroupBy(p => p.Partition).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Produced {Format.Number(events.Count)} events ({Format.Bytes(bytes)}) to '{stream}' in {seconds:0.00} s: {events.Count / seconds:N0} events/s, {bytes / seconds / (1 << 20):0.00} MiB/s. Per partition: {(partitions.Length > 0 ? partitions : "none")}."));
        return 0;
    }

    private static EventLogException Usage(string message) => new(EventLogErrorReason.InvalidArgument, message + ".");
}
