using FaasEvents.Functions.Storage;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>Writes a function's failed events to its dead-letter stream (<see cref="DeadLetterRecord"/>), creating the stream on first use.</summary>
internal sealed class DeadLetterWriter(FunctionDefinition function, string stream, IOutputSink outputs, TimeProvider time, ILogger logger)
{
    /// <summary>The dead-letter stream.</summary>
    public string Stream => stream;

    /// <summary>
    /// Appends the events with the error, as sequenced writes of <paramref name="writer"/> (null: plain appends, for
    /// queue consumption, whose dead letters come in no offset order), with <paramref name="extra"/> attributes. Storage failures are retried until the letter is written or the partition
    /// stops, and reported to <paramref name="stall"/>; any other failure (the letter can never be written) is thrown
    /// for the partition to halt on.
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<StoredEvent> events, int partition, Guid? writer, Exception error, int attempts, WriteStall stall, CancellationToken cancellationToken, IReadOnlyDictionary<string, object>? extra = null)
    {
        string message = ErrorText(error);
        DateTimeOffset now = time.GetUtcNow();
        var letters = events.Select(e => DeadLetterRecord.Create(e, WithExtra(DeadLetterRecord.Attributes(message, attempts, function, partition, e.Offset, now), extra))).ToList();
        List<WriterMark>? marks = writer is { } w ? events.Select(e => new WriterMark(w, WriterIdentity.Sequence(e.Offset, 0))).ToList() : null; // a successor's re-write of the letter is a copy
        string what = $"{function.Name}: dead-letter write of {function.Stream} partition {partition} offset {events[0].Offset} to '{stream}'";
        // Never dropped: storage failures are retried as for any runtime write (the partition does not move on until
        // the letter is written); anything else means it can never be written and is thrown for the partition to halt on.
        await InfrastructureRetry.RunAsync(
            async ct =>
            {
                await outputs.EnsureStreamAsync(stream, ct);
                await outputs.AppendAsync(null, stream, letters, marks, ct);
            },
            what,
            logger,
            time,
            stall,
            cancellationToken);
        logger.LogError(error, "{Function}: dead-lettered {Count} event(s) from {Stream} partition {Partition} at offset {Offset} to '{DeadLetter}' after {Attempts} tries", function.Name, events.Count, function.Stream, partition, events[0].Offset, stream, attempts);
    }

    private static Dictionary<string, object> WithExtra(Dictionary<string, object> attributes, IReadOnlyDictionary<string, object>? extra)
    {
        foreach (KeyValuePair<string, object> x in extra ?? new Dictionary<string, object>())
        {
            attributes[x.Key] = x.Value;
        }

        return attributes;
    }

    /// <summary>The dead letter's dlqerror text: exception type and message, at most 1,024 characters.</summary>
    internal static string ErrorText(Exception error)
    {
        string message = $"{error.GetType().Name}: {error.Message}";
        if (message.Length <= 1024)
        {
            return message;
        }

        int cut = char.IsHighSurrogate(message[1023]) ? 1023 : 1024; // never half a character
        return message[..cut];
    }
}
