using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaasEvents.Log;
using FaasEvents.Log.Schemas;
using Spectre.Console;

namespace FaasEvents.Cli.Commands;

/// <summary><c>faas schema register|show|check|compatibility</c>: a stream's contract.</summary>
internal static class SchemaCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Build()
    {
        var schema = new Command("schema", "Register, show and check a stream's JSON Schema, and set its compatibility mode.");
        schema.Subcommands.Add(Register());
        schema.Subcommands.Add(Show());
        schema.Subcommands.Add(Check());
        schema.Subcommands.Add(Compatibility());
        schema.Subcommands.Add(Codegen());
        return schema;
    }

    private static Argument<string> StreamArgument() => new("stream") { Description = "Stream." };

    private static Argument<string> FileArgument() => new("file") { Description = "A JSON Schema document (.json)." };

    private static Command Register()
    {
        var stream = StreamArgument();
        var file = FileArgument();
        var command = new Command("register", "Register a schema as the stream's next version; refused, naming each field and rule, if it breaks the stream's compatibility mode.") { stream, file };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string name = parse.GetRequiredValue(stream);
            int before = (await log.Schemas.ListAsync(name, token)).Count;
            StreamSchema registered = await log.Schemas.RegisterAsync(name, await ReadFileAsync(parse.GetRequiredValue(file), token), token);
            Console.WriteLine(registered.Version <= before
                ? $"'{name}' already has this schema as version {registered.Version}; nothing registered."
                : $"Registered version {registered.Version} of '{name}' ({StreamSchemasClient.ModeName(await log.Schemas.GetCompatibilityAsync(name, token))} compatibility). Events written with it carry dataschema {registered.DataSchema}.");
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var stream = StreamArgument();
        var version = new Option<int?>("--version") { Description = "A version (default: the latest)." };
        var list = new Option<bool>("--list") { Description = "List the versions instead." };
        var command = new Command("show", "Print a version of the stream's schema (the latest by default), or list the versions.") { stream, version, list };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string name = parse.GetRequiredValue(stream);
            if (parse.GetValue(list))
            {
                IReadOnlyList<StreamSchema> versions = await log.Schemas.ListAsync(name, token);
                var table = new Table().AddColumns("Version", "Registered", "dataschema");
                foreach (StreamSchema v in versions)
                {
                    table.AddRow(v.Version.ToString(CultureInfo.InvariantCulture), v.RegisteredAt.ToString("u", CultureInfo.InvariantCulture), Markup.Escape(v.DataSchema.ToString()));
                }

                Console.WriteLine($"'{name}': {versions.Count} version(s), {StreamSchemasClient.ModeName(await log.Schemas.GetCompatibilityAsync(name, token))} compatibility");
                AnsiConsole.Write(table);
                return 0;
            }

            StreamSchema? schema = await log.Schemas.GetAsync(name, parse.GetValue(version), token);
            if (schema is null)
            {
                Console.Error.WriteLine($"error: stream '{name}' has no schema; register one: faas schema register {name} FILE");
                return 1;
            }

            Console.Error.WriteLine($"# '{name}' version {schema.Version}, registered {schema.RegisteredAt:u}");
            Console.WriteLine(JsonNode.Parse(schema.Schema)!.ToJsonString(Indented));
            return 0;
        }));
        return command;
    }

    private static Command Check()
    {
        var stream = StreamArgument();
        var file = FileArgument();
        var command = new Command("check", "Say whether a schema would be registered, and why not, without registering it (exit 1 when it would be refused).") { stream, file };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string name = parse.GetRequiredValue(stream);
            SchemaCheck check = await log.Schemas.CheckAsync(name, await ReadFileAsync(parse.GetRequiredValue(file), token), token);
            string mode = StreamSchemasClient.ModeName(check.Mode);
            if (check.SameAs is { } same)
            {
                Console.WriteLine($"Compatible: it is version {same} of '{name}' already.");
                return 0;
            }

            if (check.Compatible)
            {
                Console.WriteLine(check.Against.Count == 0
                    ? $"Compatible: '{name}' has no schema yet{(check.Mode == CompatibilityMode.None ? " that it checks against (compatibility none)" : "")}; it would be version 1."
                    : $"Compatible ({mode}) with version{(check.Against.Count > 1 ? "s" : "")} {string.Join(", ", check.Against)}.");
                return 0;
            }

            Console.WriteLine($"Incompatible ({mode}) with version{(check.Against.Count > 1 ? "s" : "")} {string.Join(", ", check.Against)}: {check.Problems.Count} problem(s)");
            foreach (string problem in check.Problems)
            {
                Console.WriteLine("  " + problem);
            }

            return 1;
        }));
        return command;
    }

    private static Command Compatibility()
    {
        var stream = StreamArgument();
        var mode = new Argument<string?>("mode") { Description = "backward (default), backward_transitive, forward, forward_transitive, full, full_transitive or none; omit to show the current mode.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("compatibility", "Show or set the stream's compatibility mode (the rules a new schema version is checked by).") { stream, mode };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string name = parse.GetRequiredValue(stream);
            if (parse.GetValue(mode) is { } text)
            {
                CompatibilityMode parsed = StreamSchemasClient.ParseMode(text);
                await log.Schemas.SetCompatibilityAsync(name, parsed, token);
                Console.WriteLine($"'{name}': {StreamSchemasClient.ModeName(parsed)} compatibility; new schema versions are checked by it.");
                return 0;
            }

            Console.WriteLine($"'{name}': {StreamSchemasClient.ModeName(await log.Schemas.GetCompatibilityAsync(name, token))} compatibility");
            return 0;
        }));
        return command;
    }

    private static Command Codegen()
    {
        var stream = StreamArgument();
        var version = new Option<int?>("--version") { Description = "The version to generate from (default: the latest)." };
        var ns = new Option<string>("--namespace") { Description = "The records' namespace.", DefaultValueFactory = _ => "Contracts" };
        var type = new Option<string?>("--type") { Description = "The root record's name (default: from the stream's name, e.g. orders.enriched -> OrdersEnriched)." };
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file (default: standard output)." };
        var command = new Command("codegen", "Generate C# records (nullable-correct, with the schema version) from a version of the stream's schema.") { stream, version, ns, type, output };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string name = parse.GetRequiredValue(stream);
            StreamSchema schema = await log.Schemas.GetAsync(name, parse.GetValue(version), token)
                ?? throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Stream '{name}' has no schema; register one: faas schema register {name} FILE");
            string code = CSharpRecordGenerator.Generate(schema, parse.GetValue(ns)!, parse.GetValue(type));
            if (parse.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file, code, token);
                Console.WriteLine($"Wrote {file}: records of '{name}' schema version {schema.Version}.");
            }
            else
            {
                Console.Write(code);
            }

            return 0;
        }));
        return command;
    }

    private static async Task<string> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Schema file '{path}' not found.");
        }

        return await File.ReadAllTextAsync(path, cancellationToken);
    }
}
