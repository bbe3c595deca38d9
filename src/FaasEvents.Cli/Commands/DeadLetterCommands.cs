using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaasEvents.Log.DeadLetters;
using Spectre.Console;

namespace FaasEvents.Cli.Commands;

/// <summary><c>faas deadletter list|replay</c>: see why events failed, and run them again once the handler is fixed.</summary>
internal static class DeadLetterCommands
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Build()
    {
        var command = new Command("deadletter", "List a consumer group's dead letters and replay them.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Replay());
        return command;
    }

    private static (Argument<string> Stream, Argument<string> Group, Option<string?> DeadLetterStream, Option<string?> Type, Option<string?> Id) Common() =>
    (
        new Argument<string>("stream") { Description = "The stream the events were read from." },
        new Argument<string>("group") { Description = "The consumer group (function) that dead-lettered them." },
        new Option<string?>("--dead-letter-stream") { Description = "The dead-letter stream, if host.json names another than {stream}.{group}.deadletter." },
        new Option<string?>("--type") { Description = "Only events of this type." },
        new Option<string?>("--id") { Description = "Only the event with this id." }
    );

    private static Command List()
    {
        (Argument<string> stream, Argument<string> group, Option<string?> dlq, Option<string?> type, Option<string?> id) = Common();
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        var command = new Command("list", "List dead letters: the event, where it was read, tries and the last error.") { stream, group, dlq, type, id, output };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            IReadOnlyList<DeadLetter> letters = await log.DeadLetters.ListAsync(parse.GetRequiredValue(stream), parse.GetRequiredValue(group), parse.GetValue(dlq), parse.GetValue(type), parse.GetValue(id), token);
            if (parse.GetValue(output) == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(letters.Select(l => new { l.Id, l.Type, l.Key, l.Error, l.Attempts, source = new { stream = l.SourceStream, partition = l.SourcePartition, offset = l.SourceOffset }, deadLetter = new { partition = l.Partition, offset = l.Offset }, l.Omitted }), Indented));
                return 0;
            }

            if (letters.Count == 0)
            {
                Console.WriteLine($"No dead letters of group '{parse.GetRequiredValue(group)}' on '{parse.GetRequiredValue(stream)}'.");
                return 0;
            }

            var table = new Table().AddColumns("Id", "Type", "Key", "Read at", "Tries", "Error");
            foreach (DeadLetter l in letters)
            {
                table.AddRow(Markup.Escape(l.Id), Markup.Escape(l.Type), Markup.Escape(l.Key ?? "-"), string.Create(CultureInfo.InvariantCulture, $"{l.SourcePartition}/{l.SourceOffset}"), l.Attempts.ToString(CultureInfo.InvariantCulture), Markup.Escape(l.Error.Length > 80 ? l.Error[..77] + "..." : l.Error));
            }

            table.Caption(Markup.Escape($"{letters.Count} dead letter(s); replay with: faas deadletter replay {parse.GetRequiredValue(stream)} {parse.GetRequiredValue(group)} [--type T] [--id ID] [--to STREAM]"));
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Replay()
    {
        (Argument<string> stream, Argument<string> group, Option<string?> dlq, Option<string?> type, Option<string?> id) = Common();
        var to = new Option<string?>("--to") { Description = "Append to this stream instead of the one they came from (which every group of it reads)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only show what would be appended." };
        var command = new Command("replay", "Append the original events of dead letters again (id, key and data, a 'replayof' marker) so a fixed handler processes them; replaying twice does not deliver twice.") { stream, group, dlq, type, id, to, dryRun };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string s = parse.GetRequiredValue(stream), g = parse.GetRequiredValue(group), target = parse.GetValue(to) ?? s;
            IReadOnlyList<DeadLetterReplay> results = await log.DeadLetters.ReplayAsync(s, g, parse.GetValue(dlq), parse.GetValue(type), parse.GetValue(id), parse.GetValue(to), parse.GetValue(dryRun), token);
            foreach (DeadLetterReplay r in results)
            {
                Console.WriteLine(r.To is { } at ? $"replayed {r.Id} ({r.From}) -> {at}" : $"{(parse.GetValue(dryRun) ? "would replay" : "skipped")} {r.Id} ({r.From}){(r.Note is null ? "" : ": " + r.Note)}");
            }

            int written = results.Count(r => r.To is not null);
            Console.WriteLine(results.Count == 0 ? "No dead letters matched."
                : parse.GetValue(dryRun) ? $"Dry run: {results.Count(r => r.Note?.StartsWith("dry run", StringComparison.Ordinal) == true)} of {results.Count} event(s) would be appended to '{target}'; nothing was written."
                : $"{written} of {results.Count} event(s) appended to '{target}'.");
            IReadOnlyList<string> others = (await log.Groups.ListAsync(target, token)).Select(x => x.Group).Where(x => x != g).ToList();
            if (written > 0 && others.Count > 0)
            {
                Console.WriteLine($"note: group(s) {string.Join(", ", others)} also read '{target}' and get these events again; replay with --to a stream only '{g}' reads to avoid that.");
            }

            return results.Any(r => r.To is null && !parse.GetValue(dryRun)) ? 2 : 0;
        }));
        return command;
    }
}
