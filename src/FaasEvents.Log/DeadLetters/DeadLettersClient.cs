using System.Globalization;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;

namespace FaasEvents.Log.DeadLetters;

/// <summary>
/// Dead letters of a consumer group: list them, and replay them (the original events appended again, with their id,
/// key and data and a <c>replayof</c> marker) so a fixed handler processes them. A replay is idempotent: each dead
/// letter is written under its own writer identity, so replaying it again is skipped by every reader that saw the
/// first replay (within the reader filter's 7-day window). A dead letter whose data was left out to fit the size limit
/// is replayed from the source stream while retention keeps it there.
/// </summary>
public sealed class DeadLettersClient
{
    private readonly EventLogClient log;

    internal DeadLettersClient(EventLogClient log) => this.log = log;

    /// <summary>
    /// The dead letters of <paramref name="group"/> on <paramref name="stream"/> (from <paramref name="deadLetterStream"/>,
    /// default <c>{stream}.{group}.deadletter</c>), oldest first per partition, filtered by event type or id.
    /// </summary>
    public async Task<IReadOnlyList<DeadLetter>> ListAsync(string stream, string group, string? deadLetterStream = null, string? type = null, string? id = null, CancellationToken cancellationToken = default)
    {
        string dlq = deadLetterStream ?? DeadLetterAttributes.DefaultStream(stream, group);
        var result = new List<DeadLetter>();
        if (await log.TryGetStreamAsync(dlq, cancellationToken) is not { } def)
        {
            return result; // no dead letter yet: the stream is created on first use
        }

        for (int p = 0; p < def.Partitions; p++)
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync(dlq, p, new ReadOptions { StartAtEarliestIfTruncated = true }, cancellationToken))
            {
                if (Parse(e) is { } letter && (type is null || letter.Type == type) && (id is null || letter.Id == id) && letter.SourceStream == stream)
                {
                    result.Add(letter);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Appends the original events of the dead letters (filtered by type or id) to <paramref name="to"/> (default: the
    /// stream they came from, where every consumer group of it sees them again). <paramref name="dryRun"/> only says
    /// what would be appended.
    /// </summary>
    public async Task<IReadOnlyList<DeadLetterReplay>> ReplayAsync(string stream, string group, string? deadLetterStream = null, string? type = null, string? id = null, string? to = null, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        string dlq = deadLetterStream ?? DeadLetterAttributes.DefaultStream(stream, group);
        string target = to ?? stream;
        await log.GetStreamAsync(target, cancellationToken); // StreamNotFound names it before anything is written
        IReadOnlyList<DeadLetter> letters = await ListAsync(stream, group, dlq, type, id, cancellationToken);
        var results = new List<DeadLetterReplay>(letters.Count);
        var events = new List<LogEvent>();
        var marks = new List<WriterMark>();
        var sources = new List<string>();
        foreach (DeadLetter letter in letters)
        {
            string from = string.Create(CultureInfo.InvariantCulture, $"{dlq}/{letter.Partition}/{letter.Offset}");
            LogEvent? original = await OriginalAsync(letter, cancellationToken);
            if (original is null)
            {
                results.Add(new DeadLetterReplay(letter.Id, from, null, $"its data was left out of the dead letter ({letter.Omitted}) and {letter.SourceStream} no longer holds offset {letter.SourceOffset} of partition {letter.SourcePartition}"));
                continue;
            }

            original.Extensions[DeadLetterAttributes.ReplayOf] = from;
            events.Add(original);
            // One writer per dead letter: a second replay of it carries the same mark and readers skip it.
            marks.Add(new WriterMark(WriterIdentity.For("replay", group, string.Create(CultureInfo.InvariantCulture, $"{dlq}@{letter.Offset}"), letter.Partition), 0));
            sources.Add(from);
        }

        if (dryRun || events.Count == 0)
        {
            return [.. results, .. events.Select((e, i) => new DeadLetterReplay(e.Id, sources[i], null, dryRun ? "dry run: would be appended to " + target : null))];
        }

        await using EventProducerClient producer = log.CreateProducer(target);
        IReadOnlyList<EventPosition> positions = await producer.SendSequencedAsync(events, marks, cancellationToken);
        results.AddRange(events.Select((e, i) => new DeadLetterReplay(e.Id, sources[i], string.Create(CultureInfo.InvariantCulture, $"{target}/{positions[i].Partition}/{positions[i].Offset}"), null)));
        return results;
    }

    /// <summary>The event as it was first written: the dead letter without its dlq* attributes, or the source's copy when data was left out.</summary>
    private async Task<LogEvent?> OriginalAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        if (letter.Omitted is null)
        {
            LogEvent e = letter.Event.Event;
            var copy = new LogEvent(e.Id, e.Source, e.Type) { Time = e.Time, PartitionKey = e.PartitionKey, Subject = e.Subject, DataContentType = e.DataContentType, DataSchema = e.DataSchema, Data = e.Data };
            foreach (KeyValuePair<string, object> x in e.Extensions.Where(x => !x.Key.StartsWith("dlq", StringComparison.Ordinal)))
            {
                copy.Extensions[x.Key] = x.Value;
            }

            return copy;
        }

        try
        {
            await foreach (StoredEvent source in log.ReadPartitionAsync(letter.SourceStream, letter.SourcePartition, new ReadOptions { From = StartPosition.FromOffset(letter.SourceOffset) }, cancellationToken))
            {
                return source.Offset == letter.SourceOffset && source.Event.Id == letter.Id ? source.Event : null;
            }
        }
        catch (EventLogException ex) when (ex.Reason is EventLogErrorReason.OffsetOutOfRange or EventLogErrorReason.StreamNotFound)
        {
        }

        return null;
    }

    private static DeadLetter? Parse(StoredEvent stored)
    {
        IDictionary<string, object> x = stored.Event.Extensions;
        if (!x.TryGetValue(DeadLetterAttributes.Stream, out object? source) || !long.TryParse(Text(x, DeadLetterAttributes.Offset), NumberStyles.None, CultureInfo.InvariantCulture, out long sourceOffset))
        {
            return null; // not a dead letter (something else appended to the stream)
        }

        return new DeadLetter(
            stored.Partition,
            stored.Offset,
            stored.Event.Id,
            stored.Event.Type,
            stored.Event.PartitionKey,
            Text(x, DeadLetterAttributes.Error) ?? "",
            int.TryParse(Text(x, DeadLetterAttributes.Attempts), NumberStyles.None, CultureInfo.InvariantCulture, out int attempts) ? attempts : 0,
            Convert.ToString(source, CultureInfo.InvariantCulture)!,
            int.TryParse(Text(x, DeadLetterAttributes.Partition), NumberStyles.None, CultureInfo.InvariantCulture, out int partition) ? partition : 0,
            sourceOffset,
            Text(x, DeadLetterAttributes.Omitted),
            stored);
    }

    private static string? Text(IDictionary<string, object> extensions, string name) =>
        extensions.TryGetValue(name, out object? value) ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;
}
