using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaasEvents.Log.Consumers;
using Spectre.Console;

namespace FaasEvents.Cli.Commands;

internal static class LagCommand
{
    public static Command Build()
    {
        var stream = new Argument<string>("stream") { Description = "Stream." };
        var group = new Option<string>("--group", "-g") { Description = "Consumer group.", Required = true };
        var initial = new Option<string>("--initial-offset") { Description = "Where a group without a checkpoint starts: earliest or latest.", DefaultValueFactory = _ => "earliest" };
        initial.AcceptOnlyFromAmong("earliest", "latest");
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        var command = new Command("lag", "Show a consumer group's lag per partition and in total (for a queue group: unsettled events, locks, redeliveries).") { stream, group, initial, output };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            InitialOffset from = parse.GetValue(initial) == "latest" ? InitialOffset.Latest : InitialOffset.Earliest;
            if (await log.Groups.DescribeQueueAsync(parse.GetRequiredValue(stream), parse.GetRequiredValue(group), token) is { } queue)
            {
                QueueGroupView.Write(parse.GetRequiredValue(stream), parse.GetRequiredValue(group), queue, parse.GetValue(output) == "json", DateTimeOffset.UtcNow);
                return 0;
            }

            LagReport report = await log.GetLagAsync(parse.GetRequiredValue(stream), parse.GetRequiredValue(group), from, token);
            if (parse.GetValue(output) == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(
                    new { stream = report.Stream, group = report.Group, totalLag = report.TotalLag, partitions = report.Partitions.Select(p => new { partition = p.Partition, earliestOffset = p.EarliestOffset, endOffset = p.EndOffset, checkpoint = p.Checkpoint, lag = p.Lag }) },
                    new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }

            var table = new Table().AddColumns("Partition", "Earliest", "End offset", "Checkpoint", "Lag");
            foreach (PartitionLag p in report.Partitions)
            {
                table.AddRow(p.Partition.ToString(CultureInfo.InvariantCulture), Format.Number(p.EarliestOffset), Format.Number(p.EndOffset), p.Checkpoint is { } c ? Format.Number(c) : "-", Format.Number(p.Lag));
            }

            table.AddEmptyRow();
            table.AddRow("[bold]total[/]", "", "", "", $"[bold]{Format.Number(report.TotalLag)}[/]");
            table.Caption($"group '{Markup.Escape(report.Group)}' on '{Markup.Escape(report.Stream)}'; partitions without a checkpoint count from {parse.GetValue(initial)}");
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
