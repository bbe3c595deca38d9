using System.Buffers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Format;

namespace FaasEvents.Log.Producer;

/// <summary>
/// The events of one send call on their way from the caller to the partitions' appenders, as one unit: checked against
/// the stream's contract together (refused together), and completed once, when the last of its events is appended or
/// failed. Appenders report events in ranges, so a call of thousands of events costs one completion, not one each.
/// </summary>
internal sealed class SendCall
{
    private readonly EventPosition?[] outcomes;
    private readonly TaskCompletionSource<IReadOnlyList<EventPosition>> done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception?[]? errors;
    private int remaining;
    private byte[]? rented;

    /// <summary>A call of <paramref name="events"/>, encoded as <paramref name="records"/> (same order).</summary>
    public SendCall(IReadOnlyList<LogEvent> events, EncodedRecord[] records)
    {
        Events = events;
        Records = records;
        outcomes = new EventPosition?[records.Length];
        remaining = records.Length;
        if (remaining == 0)
        {
            done.TrySetResult([]);
        }
    }

    /// <summary>The call's events, in call order.</summary>
    public IReadOnlyList<LogEvent> Events { get; }

    /// <summary>
    /// Gives the call the pooled array its records' bodies live in: returned to <see cref="ArrayPool{T}.Shared"/> when the
    /// call completes, when every event was appended or failed and no appender reads them any more.
    /// </summary>
    public void Holds(byte[] block) => rented = block;

    /// <summary>The events' records (re-encoded with their dataschema when the contract is applied late).</summary>
    public EncodedRecord[] Records { get; }

    /// <summary>True once the call was checked against the stream's contract.</summary>
    public bool Checked { get; set; }

    /// <summary>Why the contract refuses the call (nothing of it is written), or null.</summary>
    public EventLogException? Refusal { get; set; }

    /// <summary>The contract the call was checked against.</summary>
    public ProducerSchemaGate.Contract Contract { get; set; } = ProducerSchemaGate.Contract.Open;

    /// <summary>True when the events were checked and stamped before they were encoded (their records carry the dataschema).</summary>
    public bool Stamped { get; set; }

    /// <summary>Every event's position in input order once all landed; the first failure (in input order) otherwise.</summary>
    public Task<IReadOnlyList<EventPosition>> Completion => done.Task;

    /// <summary>Events <paramref name="indices"/> (all when null) landed at consecutive offsets from <paramref name="baseOffset"/>.</summary>
    public void Landed(int partition, long baseOffset, int[]? indices, int from, int count)
    {
        lock (outcomes)
        {
            for (int k = 0; k < count; k++)
            {
                outcomes[indices?[from + k] ?? from + k] = new EventPosition(partition, baseOffset + k);
            }
        }

        Finish(count);
    }

    /// <summary>Events <paramref name="indices"/> (all when null) from <paramref name="from"/> failed with <paramref name="error"/>.</summary>
    public void Failed(Exception error, int[]? indices, int from, int count)
    {
        lock (outcomes)
        {
            errors ??= new Exception?[outcomes.Length];
            for (int k = 0; k < count; k++)
            {
                errors[indices?[from + k] ?? from + k] = error;
            }
        }

        Finish(count);
    }

    /// <summary>Every event of the call failed (refused, or the stream could not be read) before any was queued.</summary>
    public void FailAll(Exception error) => Failed(error, null, 0, outcomes.Length);

    /// <summary>Event <paramref name="index"/>'s outcome so far; a pending one reports <paramref name="pending"/>.</summary>
    public EventSendResult Outcome(int index, Exception pending)
    {
        lock (outcomes)
        {
            return outcomes[index] is { } position ? new EventSendResult(position, null) : new EventSendResult(null, errors?[index] ?? pending);
        }
    }

    private void Finish(int count)
    {
        if (Interlocked.Add(ref remaining, -count) != 0)
        {
            return;
        }

        if (Interlocked.Exchange(ref rented, null) is { } block)
        {
            ArrayPool<byte>.Shared.Return(block); // every event was reported: nothing reads the bodies any more
        }

        Exception? first;
        lock (outcomes)
        {
            first = errors?.FirstOrDefault(e => e is not null);
        }

        if (first is not null)
        {
            done.TrySetException(first);
            return;
        }

        var positions = new EventPosition[outcomes.Length];
        for (int i = 0; i < positions.Length; i++)
        {
            positions[i] = outcomes[i]!.Value;
        }

        done.TrySetResult(positions);
    }
}
