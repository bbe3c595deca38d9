using System.CommandLine;
using System.Globalization;
using FaasEvents.Log;
using FaasEvents.Log.Compaction;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Schemas;
using FaasEvents.Log.Streams;
using Spectre.Console;

namespace FaasEvents.Cli.Commands;

internal static class StreamsCommands
{
    public static Command Build()
    {
        var streams = new Command("streams", "Create, list, describe and delete streams.");

        var name = new Argument<string>("name") { Description = "Stream name." };
        var partitions = new Option<int>("--partitions", "-p") { Description = "Number of partitions (1-1024).", DefaultValueFactory = _ => 1 };
        var kind = new Option<string>("--kind") { Description = "events or entities.", DefaultValueFactory = _ => "events" };
        kind.AcceptOnlyFromAmong("events", "entities");
        var retention = new Option<string>("--retention") { Description = "infinite (default), a duration (7d, 12h), a size (10GiB) or both (7d,10GiB).", DefaultValueFactory = _ => "infinite" };
        var segmentBytes = new Option<long?>("--segment-max-bytes") { Description = "Roll segments at this size (default 256 MiB)." };
        var createDeleteRetention = new Option<string?>("--delete-retention") { Description = "Entity streams: compaction keeps tombstones this long (a duration; default 24h)." };
        var createMinLag = new Option<string?>("--min-compaction-lag") { Description = "Entity streams: compaction keeps events younger than this (a duration; default 0s)." };
        var create = new Command("create", "Create a stream.") { name, partitions, kind, retention, segmentBytes, createDeleteRetention, createMinLag };
        create.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            var def = new StreamDefinition
            {
                Name = parse.GetRequiredValue(name),
                Partitions = parse.GetValue(partitions),
                Kind = parse.GetValue(kind) == "entities" ? StreamKind.Entities : StreamKind.Events,
                Retention = RetentionPolicy.Parse(parse.GetValue(retention)!),
                SegmentMaxBytes = parse.GetValue(segmentBytes) ?? StreamDefinition.DefaultSegmentMaxBytes,
                DeleteRetention = parse.GetValue(createDeleteRetention) is { } dr ? Duration(dr, "--delete-retention") : TimeSpan.FromHours(24),
                MinCompactionLag = parse.GetValue(createMinLag) is { } ml ? Duration(ml, "--min-compaction-lag") : TimeSpan.Zero,
            };
            if (def.Kind != StreamKind.Entities && (parse.GetValue(createDeleteRetention) is not null || parse.GetValue(createMinLag) is not null))
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, "--delete-retention and --min-compaction-lag apply to entity streams (--kind entities) only: event streams are never compacted.");
            }

            def = await log.CreateStreamAsync(def, token);
            Console.WriteLine($"Created stream '{def.Name}': {def.Partitions} partition(s), {Kind(def)}, retention {def.Retention}.");
            return 0;
        }));

        var list = new Command("list", "List streams with their size.");
        list.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            var table = new Table().AddColumns("Stream", "Partitions", "Kind", "Retention", "Events", "Bytes");
            int count = 0;
            await foreach (StreamDefinition def in log.ListStreamsAsync(token))
            {
                IReadOnlyList<PartitionInfo> parts = await log.GetPartitionsAsync(def.Name, token);
                table.AddRow(Markup.Escape(def.Name), def.Partitions.ToString(CultureInfo.InvariantCulture), Kind(def), def.Retention.ToString(), Format.Number(parts.Sum(p => p.RetainedEvents)), Format.Bytes(parts.Sum(p => p.Bytes)));
                count++;
            }

            if (count == 0)
            {
                Console.WriteLine($"No streams in {log.StorageDescription}, container '{log.Container.Name}'. Create one: faas streams create NAME --partitions N");
            }
            else
            {
                AnsiConsole.Write(table);
            }

            return 0;
        }));

        var describe = new Command("describe", "Show a stream's definition and partitions.") { name };
        describe.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            StreamDefinition def = await log.GetStreamAsync(parse.GetRequiredValue(name), token);
            IReadOnlyList<PartitionInfo> parts = await log.GetPartitionsAsync(def.Name, token);
            Console.WriteLine($"Stream:      {def.Name}");
            Console.WriteLine($"Kind:        {Kind(def)}");
            Console.WriteLine($"Partitions:  {def.Partitions}");
            IReadOnlyList<StreamPass> passes = await log.GetLastPassesAsync(def.Name, token);
            Console.WriteLine($"Retention:   {def.Retention}");
            if (!def.Retention.IsInfinite)
            {
                Console.WriteLine($"             {LastPass(passes, StreamPass.Retention, "deleted", "segment(s)")}");
            }

            if (def.Kind == StreamKind.Entities)
            {
                Console.WriteLine($"Compaction:  latest event per key in closed segments; tombstones kept {Span(def.DeleteRetention)}, events younger than {Span(def.MinCompactionLag)} kept");
                Console.WriteLine($"             {LastPass(passes, StreamPass.Compaction, "rewrote", "segment(s)")}");
            }

            Console.WriteLine($"Segments:    roll at {Format.Bytes(def.SegmentMaxBytes)} or {Format.Number(def.SegmentMaxBlocks)} batches");
            Console.WriteLine($"Created:     {def.CreatedAt:u}");
            StreamOwner? owner = await log.Schemas.GetOwnerAsync(def.Name, token);
            Console.WriteLine($"Owner:       {(owner is null ? "none (any producer may append; set one: faas streams owner " + def.Name + " IDENTITY)" : $"{owner.Owner} (single writer since {owner.Since:u}; {owner.History.Count} change(s))")}");
            IReadOnlyList<StreamSchema> versions = await log.Schemas.ListAsync(def.Name, token);
            Console.WriteLine($"Schema:      {(versions.Count == 0 ? "none (faas schema register " + def.Name + " FILE)" : $"version {versions[^1].Version} of {versions.Count}, registered {versions[^1].RegisteredAt:u}; {StreamSchemasClient.ModeName(await log.Schemas.GetCompatibilityAsync(def.Name, token))} compatibility")}");
            Console.WriteLine($"Storage:     {log.StorageDescription}, container '{log.Container.Name}'");
            var table = new Table().AddColumns("Partition", "Earliest", "End offset", "Segments", "Bytes", "Last append");
            foreach (PartitionInfo p in parts)
            {
                table.AddRow(p.Partition.ToString(CultureInfo.InvariantCulture), Format.Number(p.EarliestOffset), Format.Number(p.EndOffset), p.Segments.ToString(CultureInfo.InvariantCulture), Format.Bytes(p.Bytes), p.LastAppend?.ToString("u", CultureInfo.InvariantCulture) ?? "-");
            }

            AnsiConsole.Write(table);
            return 0;
        }));

        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation." };
        var delete = new Command("delete", "Delete a stream, its events and its consumer groups' checkpoints.") { name, yes };
        delete.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string stream = parse.GetRequiredValue(name);
            if (!parse.GetValue(yes))
            {
                if (Console.IsInputRedirected)
                {
                    throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Refusing to delete stream '{stream}' without confirmation; pass --yes.");
                }

                if (!AnsiConsole.Confirm($"Delete stream '{Markup.Escape(stream)}' and all its events?", false))
                {
                    return 1;
                }
            }

            await log.DeleteStreamAsync(stream, token);
            Console.WriteLine($"Deleted stream '{stream}'.");
            return 0;
        }));

        var applyRetention = new Command("retention", "Apply the stream's retention now: delete whole segments past it.") { name };
        applyRetention.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            IReadOnlyList<DeletedSegment> deleted = await log.ApplyRetentionAsync(parse.GetRequiredValue(name), token);
            foreach (DeletedSegment d in deleted)
            {
                Console.WriteLine($"partition {d.Partition}: deleted offsets {d.BaseOffset}..{d.NextOffset - 1} ({Format.Bytes(d.Bytes)})");
            }

            Console.WriteLine($"{deleted.Count} segment(s) deleted, {Format.Bytes(deleted.Sum(d => d.Bytes))} freed.");
            return 0;
        }));

        var deleteRetention = new Option<string?>("--delete-retention") { Description = "Keep tombstones that are the latest for their key this long (a duration: 24h, 30m, 0s). Default: the stream's setting." };
        var minLag = new Option<string?>("--min-compaction-lag") { Description = "Keep events younger than this even when superseded (a duration). Default: the stream's setting." };
        var compact = new Command("compact", "Compact an entity stream now: rewrite closed segments keeping the latest event per key (offsets do not change).") { name, deleteRetention, minLag };
        compact.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string stream = parse.GetRequiredValue(name);
            StreamDefinition def = await log.GetStreamAsync(stream, token);
            int partitions = def.Partitions;
            var options = new CompactionOptions
            {
                DeleteRetention = parse.GetValue(deleteRetention) is { } dr ? Duration(dr, "--delete-retention") : def.DeleteRetention,
                MinCompactionLag = parse.GetValue(minLag) is { } ml ? Duration(ml, "--min-compaction-lag") : def.MinCompactionLag,
            };
            var started = System.Diagnostics.Stopwatch.StartNew();
            IReadOnlyList<PartitionCompaction> results = [];
            await AnsiConsole.Progress().AutoClear(true).StartAsync(async progress =>
            {
                ProgressTask task = progress.AddTask($"compacting '{Markup.Escape(stream)}'", maxValue: partitions);
                results = await log.CompactAsync(stream, options, new Progress<PartitionCompaction>(_ => task.Increment(1)), token);
            });
            var table = new Table().AddColumns("Partition", "Segments", "Events", "Deletes dropped", "Bytes");
            foreach (PartitionCompaction r in results)
            {
                table.AddRow(r.Partition.ToString(CultureInfo.InvariantCulture), $"{r.SegmentsIn} -> {r.SegmentsOut}", $"{Format.Number(r.EventsRead)} -> {Format.Number(r.EventsKept)}", Format.Number(r.TombstonesRemoved), $"{Format.Bytes(r.BytesBefore)} -> {Format.Bytes(r.BytesAfter)}");
            }

            AnsiConsole.Write(table);
            Console.WriteLine($"Compacted '{stream}' in {started.Elapsed.TotalSeconds:0.0} s: {Format.Number(results.Sum(r => r.EventsRead))} -> {Format.Number(results.Sum(r => r.EventsKept))} events in closed segments (the active segment of each partition is never compacted).");
            return 0;
        }));

        streams.Add(create);
        streams.Add(list);
        streams.Add(describe);
        streams.Add(OwnerCommand());
        streams.Add(delete);
        streams.Add(applyRetention);
        streams.Add(compact);
        return streams;
    }

    private static TimeSpan Duration(string text, string option)
    {
        if (text.Trim() is "0" or "0s")
        {
            return TimeSpan.Zero;
        }

        RetentionPolicy parsed = RetentionPolicy.Parse(text);
        return parsed.MaxAge is { } age && parsed.MaxBytes is null
            ? age
            : throw new EventLogException(EventLogErrorReason.InvalidArgument, $"{option} takes a duration such as 24h, 30m or 90s, not '{text}'.");
    }

    private static Command OwnerCommand()
    {
        var stream = new Argument<string>("stream") { Description = "Stream." };
        var owner = new Argument<string?>("owner") { Description = "The producer identity that becomes the stream's only writer; omit to show the owner and its history.", Arity = ArgumentArity.ZeroOrOne };
        var none = new Option<bool>("--none") { Description = "Lift the single-writer rule: any producer may append." };
        var by = new Option<string>("--by") { Description = "Who makes the change (recorded in the history).", DefaultValueFactory = _ => Environment.UserName };
        var command = new Command("owner", "Show or transfer a stream's owner (single writer): appends by any other identity are refused.") { stream, owner, none, by };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string name = parse.GetRequiredValue(stream);
            string? next = parse.GetValue(owner);
            if (next is not null && parse.GetValue(none))
            {
                throw new EventLogException(EventLogErrorReason.InvalidArgument, "Give a new owner or --none, not both.");
            }

            if (next is null && !parse.GetValue(none))
            {
                StreamOwner? current = await log.Schemas.GetOwnerAsync(name, token);
                Console.WriteLine(current is null ? $"'{name}' has no owner: any producer may append." : $"'{name}' is owned by '{current.Owner}' since {current.Since:u}.");
                foreach (OwnerTransfer t in current?.History ?? [])
                {
                    Console.WriteLine($"  {t.At:u}  {t.From ?? "(none)"} -> {t.To ?? "(none)"}  by {t.By}");
                }

                return 0;
            }

            StreamOwner? before = await log.Schemas.GetOwnerAsync(name, token);
            await log.Schemas.SetOwnerAsync(name, next, parse.GetValue(by)!, token);
            Console.WriteLine(next is null
                ? $"'{name}' has no owner now (was '{before?.Owner ?? "none"}'): any producer may append."
                : $"'{name}' is owned by '{next}' now (was '{before?.Owner ?? "none"}'); producers pick it up within 30 s. Appends by any other identity are refused.");
            return 0;
        }));
        return command;
    }

    /// <summary>One line on the last recorded pass of a kind, e.g. "last pass 2026-12-07 00:10:00Z: deleted 3 segment(s), 1,200 events, 3.0 MB".</summary>
    private static string LastPass(IReadOnlyList<StreamPass> passes, string kind, string verb, string what) =>
        passes.FirstOrDefault(p => p.Kind == kind) switch
        {
            null => $"no {kind} pass recorded yet (the server runs one every {(kind == StreamPass.Retention ? "FAAS_RETENTION_INTERVAL" : "FAAS_COMPACTION_INTERVAL")}, default 10 min; or: faas streams {(kind == StreamPass.Retention ? "retention" : "compact")} NAME)",
            { Error: { } error } p => $"last {kind} pass {p.At:u} FAILED: {error}",
            { Segments: 0, Events: 0 } p => $"last {kind} pass {p.At:u}: nothing to remove",
            var p => $"last {kind} pass {p.At:u}: {verb} {Format.Number(p.Segments)} {what}, {Format.Number(p.Events)} events, {Format.Bytes(p.Bytes)} freed",
        };

    private static string Span(TimeSpan t) => t == TimeSpan.Zero ? "0s" : new RetentionPolicy(t).ToString();

    private static string Kind(StreamDefinition def) => def.Kind == StreamKind.Entities ? "entities" : "events";
}
