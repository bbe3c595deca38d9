using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using Spectre.Console;

namespace FaasEvents.Cli.Commands;

/// <summary><c>faas state get|scan</c>: query a materializer's committed table in storage (works while it is scaled to zero).</summary>
internal static class StateCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Build()
    {
        var state = new Command("state", "Query a materializer's table from its committed state in storage (works while the function is scaled to zero).");
        state.Subcommands.Add(Get());
        state.Subcommands.Add(Scan());
        return state;
    }

    private static (Argument<string> Name, Option<string?> Group, Option<string?> Stream) Common()
    {
        var name = new Argument<string>("name") { Description = "Materializer (function) name." };
        var group = new Option<string?>("--group", "-g") { Description = "Consumer group, if the materializer sets one. Default: the name." };
        var stream = new Option<string?>("--stream", "-s") { Description = "Entity stream. Default: found from the committed state." };
        return (name, group, stream);
    }

    private static Command Get()
    {
        (Argument<string> name, Option<string?> group, Option<string?> stream) = Common();
        var key = new Argument<string>("key") { Description = "Entity key (the events' partition key)." };
        var command = new Command("get", "Print a key's value as JSON; a missing or deleted key exits with code 1.") { name, key, group, stream };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            StateReader reader = await OpenAsync(log, parse.GetRequiredValue(name), parse.GetValue(group), parse.GetValue(stream), token);
            string k = parse.GetRequiredValue(key);
            StateEntry entry = await reader.GetAsync(k, token);
            if (entry.Value is null)
            {
                Console.Error.WriteLine($"error: key '{k}' is not in materializer '{parse.GetRequiredValue(name)}' (absent or deleted; partition {entry.Partition}, committed state as of offset {(entry.NextOffset is { } o ? o.ToString(CultureInfo.InvariantCulture) : "none: nothing committed yet")}).");
                return 1;
            }

            Console.WriteLine(Pretty(entry.Value));
            return 0;
        }));
        return command;
    }

    private static Command Scan()
    {
        (Argument<string> name, Option<string?> group, Option<string?> stream) = Common();
        var prefix = new Option<string?>("--prefix", "-p") { Description = "Only keys starting with this." };
        var after = new Option<string?>("--after") { Description = "Start after this key (paging: pass the previous page's last key)." };
        var limit = new Option<int>("--limit", "-n") { Description = "Keys per page, 1-10000.", DefaultValueFactory = _ => 100 };
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        var command = new Command("scan", "List keys and values in key order, optionally by prefix, one page at a time.") { name, group, stream, prefix, after, limit, output };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            int n = parse.GetValue(limit);
            if (n is < 1 or > 10_000)
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, $"--limit must be between 1 and 10000, not {n}.");
            }

            StateReader reader = await OpenAsync(log, parse.GetRequiredValue(name), parse.GetValue(group), parse.GetValue(stream), token);
            StatePage page = await reader.ScanAsync(parse.GetValue(prefix), parse.GetValue(after), n, token);
            if (parse.GetValue(output) == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(new { items = page.Items.Select(kv => new { key = kv.Key, value = StateReader.AsJson(kv.Value) }), next = page.Next }, Indented));
                return 0;
            }

            var table = new Table().AddColumns("Key", "Value");
            foreach ((string k, BinaryData v) in page.Items)
            {
                string text = v.ToString();
                table.AddRow(Markup.Escape(k), Markup.Escape(text.Length > 120 ? text[..117] + "..." : text));
            }

            table.Caption(page.Next is null
                ? $"{page.Items.Count} key(s)"
                : $"{page.Items.Count} key(s) shown; next page: --after {Markup.Escape(page.Next)}");
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static async Task<StateReader> OpenAsync(EventLogClient log, string name, string? group, string? stream, CancellationToken cancellationToken)
    {
        string g = group ?? name;
        StreamDefinition.ValidateName(g, "consumer group");
        if (stream is null)
        {
            IReadOnlyList<string> streams = await log.FindStateStreamsAsync(g, cancellationToken);
            stream = streams.Count switch
            {
                1 => streams[0],
                0 => throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Materializer '{name}' has no committed state in {log.StorageDescription}, container '{log.Container.Name}' (consumer group '{g}'). Has it run yet? It commits within its stateCommitInterval of handling events; pass --group if it uses another consumer group."),
                _ => throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Consumer group '{g}' has state for several streams ({string.Join(", ", streams)}); pick one with --stream."),
            };
        }

        return log.CreateStateReader(g, stream);
    }

    private static string Pretty(BinaryData value) => JsonSerializer.Serialize(StateReader.AsJson(value), Indented);
}
