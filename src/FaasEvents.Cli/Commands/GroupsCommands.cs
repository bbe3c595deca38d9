using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Groups;
using Spectre.Console;

namespace FaasEvents.Cli.Commands;

/// <summary><c>faas groups list|describe|reset|delete</c>: consumer groups without touching blobs by hand.</summary>
internal static class GroupsCommands
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Build()
    {
        var groups = new Command("groups", "List, describe, reset and delete consumer groups.");
        groups.Subcommands.Add(List());
        groups.Subcommands.Add(Describe());
        groups.Subcommands.Add(Reset());
        groups.Subcommands.Add(Delete());
        return groups;
    }

    private static Option<string> OutputOption()
    {
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        return output;
    }

    private static Command List()
    {
        var stream = new Argument<string?>("stream") { Description = "Only the groups on this stream.", Arity = ArgumentArity.ZeroOrOne };
        var output = OutputOption();
        var command = new Command("list", "List consumer groups: the stream each reads, partitions checkpointed and partitions held by an instance now.") { stream, output };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            IReadOnlyList<ConsumerGroupInfo> found = await log.Groups.ListAsync(parse.GetValue(stream), token);
            if (parse.GetValue(output) == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(found, Indented));
                return 0;
            }

            if (found.Count == 0)
            {
                Console.WriteLine(parse.GetValue(stream) is { } s ? $"No consumer groups on '{s}' yet (a group appears once a function of it claims a partition)." : "No consumer groups yet.");
                return 0;
            }

            var table = new Table().AddColumns("Stream", "Group", "Kind", "Partitions", "Held now", "Handled", "Failures", "Dead-lettered");
            foreach (ConsumerGroupInfo g in found)
            {
                table.AddRow(
                    Markup.Escape(g.Stream),
                    Markup.Escape(g.Group),
                    g.Kind,
                    g.Partitions.ToString(CultureInfo.InvariantCulture),
                    g.Consumption == "queue" ? "-" : g.Owned.ToString(CultureInfo.InvariantCulture),
                    g.Counts is { } c ? Format.Number(c.Handled) : "-",
                    g.Counts is { } f ? Format.Number(f.Failures) : "-",
                    g.Counts is { } d ? Format.Number(d.DeadLettered) : "-");
            }

            table.Caption("counts are kept with the checkpoints (a queue group's with its queue state: describe it)");

            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Describe()
    {
        var stream = new Argument<string>("stream") { Description = "Stream." };
        var group = new Argument<string>("group") { Description = "Consumer group." };
        var output = OutputOption();
        var command = new Command("describe", "Show a group per partition: checkpoint, lag, owner instance, lease and when the checkpoint was written (a queue group: settled offset, unsettled, locks, redeliveries).") { stream, group, output };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            if (await log.Groups.DescribeQueueAsync(parse.GetRequiredValue(stream), parse.GetRequiredValue(group), token) is { } queue)
            {
                QueueGroupView.Write(parse.GetRequiredValue(stream), parse.GetRequiredValue(group), queue, parse.GetValue(output) == "json", DateTimeOffset.UtcNow);
                return 0;
            }

            IReadOnlyList<GroupPartitionState> states = await log.Groups.DescribeAsync(parse.GetRequiredValue(stream), parse.GetRequiredValue(group), cancellationToken: token);
            if (parse.GetValue(output) == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(states, Indented));
                return 0;
            }

            var table = new Table().AddColumns("Partition", "Checkpoint", "End offset", "Lag", "Owner", "Lease", "Written");
            foreach (GroupPartitionState s in states)
            {
                table.AddRow(
                    s.Partition.ToString(CultureInfo.InvariantCulture),
                    s.Checkpoint is { } c ? Format.Number(c) : "-",
                    Format.Number(s.EndOffset),
                    Format.Number(s.Lag),
                    Markup.Escape(s.Owner ?? "-"),
                    s.IsOwned ? $"[green]{s.Lease}[/]" : s.Lease,
                    s.CheckpointedAt is { } at ? at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-");
            }

            table.AddEmptyRow();
            table.AddRow("[bold]total[/]", "", "", $"[bold]{Format.Number(states.Sum(s => s.Lag))}[/]", "", "", "");
            WorkCounts? counts = WorkCounts.Sum(states.Select(s => s.Counts));
            string did = counts is null ? "nothing counted yet" : $"handled {Format.Number(counts.Handled)}, failures {Format.Number(counts.Failures)}, retries {Format.Number(counts.Retries)}, dead-lettered {Format.Number(counts.DeadLettered)}, cold starts {Format.Number(counts.ColdStarts)}";
            table.Caption($"group '{Markup.Escape(parse.GetRequiredValue(group))}' on '{Markup.Escape(parse.GetRequiredValue(stream))}': {did}; partitions without a checkpoint count from the earliest offset");
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Reset()
    {
        var stream = new Argument<string>("stream") { Description = "Stream." };
        var group = new Argument<string>("group") { Description = "Consumer group." };
        var earliest = new Option<bool>("--to-earliest") { Description = "Process everything retained again." };
        var latest = new Option<bool>("--to-latest") { Description = "Skip everything not yet processed." };
        var offset = new Option<long?>("--to-offset") { Description = "Move to this offset (kept within each partition's retained range)." };
        var time = new Option<string?>("--to-time") { Description = "Move to the first event written at or after this ISO 8601 time." };
        var shift = new Option<long?>("--shift-by") { Description = "Move each checkpoint by N events (negative: back)." };
        var partition = new Option<int?>("--partition", "-p") { Description = "Only this partition." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only show what would change (the new lag per partition)." };
        var force = new Option<bool>("--force") { Description = "Fence instances that hold partitions: their leases are taken, they stop at their next checkpoint (a queue group: the locks held go and their outcomes are refused)." };
        var output = OutputOption();
        var command = new Command("reset", "Move a group's checkpoints (a queue group's settled offset): to the earliest or latest offset, an offset, a time, or by a shift. Refused while instances hold partitions (a queue group: locks) unless --force.")
        {
            stream, group, earliest, latest, offset, time, shift, partition, dryRun, force, output,
        };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            GroupResetTarget target = GroupResetTarget.Choose(parse.GetValue(earliest), parse.GetValue(latest), parse.GetValue(offset), parse.GetValue(time), parse.GetValue(shift));
            bool dry = parse.GetValue(dryRun);
            IReadOnlyList<PartitionReset> plan = await log.Groups.ResetAsync(parse.GetRequiredValue(stream), parse.GetRequiredValue(group), target, parse.GetValue(partition), dry, parse.GetValue(force), token);
            if (parse.GetValue(output) == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(new { dryRun = dry, target = target.ToString(), partitions = plan }, Indented));
                return 0;
            }

            var table = new Table().AddColumns("Partition", "Checkpoint", "New checkpoint", "Lag", "New lag", "Note");
            foreach (PartitionReset r in plan)
            {
                table.AddRow(r.Partition.ToString(CultureInfo.InvariantCulture), r.From is { } f ? Format.Number(f) : "-", Format.Number(r.To), Format.Number(r.LagBefore), Format.Number(r.LagAfter), Markup.Escape(r.Note ?? ""));
            }

            table.Caption(Markup.Escape(dry ? $"dry run ({target}): nothing changed; run again without --dry-run to apply" : $"reset to {target}"));
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Delete()
    {
        var stream = new Argument<string>("stream") { Description = "Stream." };
        var group = new Argument<string>("group") { Description = "Consumer group." };
        var force = new Option<bool>("--force") { Description = "Fence instances that hold partitions first." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation." };
        var command = new Command("delete", "Delete a group's checkpoints (and a materializer's committed state) on a stream; it starts again at its initial offset.") { stream, group, force, yes };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string s = parse.GetRequiredValue(stream), g = parse.GetRequiredValue(group);
            if (!parse.GetValue(yes))
            {
                if (Console.IsInputRedirected)
                {
                    throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Refusing to delete group '{g}' on '{s}' without confirmation; pass --yes.");
                }

                if (!AnsiConsole.Confirm($"Delete consumer group '{Markup.Escape(g)}' on '{Markup.Escape(s)}'?", false))
                {
                    return 1;
                }
            }

            int deleted = await log.Groups.DeleteAsync(s, g, parse.GetValue(force), token);
            Console.WriteLine($"Deleted group '{g}' on '{s}' ({deleted} blob(s)).");
            return 0;
        }));
        return command;
    }
}
