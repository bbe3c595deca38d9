using System.Globalization;
using System.Text.Json;
using FaasEvents.Log.Groups;
using Spectre.Console;

namespace FaasEvents.Cli.Commands;

/// <summary>How <c>faas lag</c> and <c>faas groups describe</c> show a group that consumes its stream as a queue.</summary>
internal static class QueueGroupView
{
    public static void Write(string stream, string group, IReadOnlyList<QueuePartitionState> rows, bool json, DateTimeOffset now)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(
                new { stream, group, consumption = "queue", totalLag = rows.Sum(r => r.Unsettled), partitions = rows },
                new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
            return;
        }

        var table = new Table().AddColumns("Partition", "End offset", "Settled below", "Unsettled (lag)", "Locked", "Waiting", "Redelivered", "Max deliveries", "Owners", "Oldest unsettled");
        foreach (QueuePartitionState r in rows)
        {
            table.AddRow(
                r.Partition.ToString(CultureInfo.InvariantCulture),
                Format.Number(r.EndOffset),
                r.SettledBelow is { } s ? Format.Number(s) : "-",
                Format.Number(r.Unsettled),
                Format.Number(r.Locked),
                Format.Number(r.Waiting),
                r.Redelivered > 0 ? $"[yellow]{r.Redelivered}[/]" : "0",
                r.MaxDeliveries.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(r.Owners.Count switch { 0 => "-", <= 2 => string.Join(", ", r.Owners), _ => $"{r.Owners[0]} +{r.Owners.Count - 1}" }),
                r.OldestUnsettledAt is { } at ? Age(now - at) : "-");
        }

        table.AddEmptyRow();
        table.AddRow("[bold]total[/]", "", "", $"[bold]{Format.Number(rows.Sum(r => r.Unsettled))}[/]", Format.Number(rows.Sum(r => r.Locked)), Format.Number(rows.Sum(r => r.Waiting)), Format.Number(rows.Sum(r => r.Redelivered)), "", "", "");
        table.Caption($"group '{Markup.Escape(group)}' consumes '{Markup.Escape(stream)}' as a queue: lag = events not settled (in flight, waiting for a redelivery, or not taken yet)");
        AnsiConsole.Write(table);
    }

    private static string Age(TimeSpan age) => age < TimeSpan.Zero ? "0 s"
        : age.TotalSeconds < 120 ? $"{age.TotalSeconds:0.#} s"
        : age.TotalMinutes < 120 ? $"{age.TotalMinutes:0} min"
        : $"{age.TotalHours:0.#} h";
}
