using FaasEvents.Log.Events;

namespace FaasEvents.Log.Producer;

/// <summary>
/// Sends events that are all known up front (a file, a backfill) so that storage gets full blocks: every Append Block
/// but each partition's last one carries <see cref="EventProducerOptions.MaxBatchBytes"/> (1 MiB), whatever the
/// timing, so what a file costs in write requests follows from its size alone. An ordinary producer appends what is
/// pending when a partition's previous append ends and waits only 5 ms for more; here the rest of the file is already
/// queued, so a partition waits up to <see cref="Linger"/> to fill its block, and only its last block waits that
/// long, once. Order within a partition is the list's order.
/// </summary>
public static class BulkSender
{
    /// <summary>How long a partition waits for its block to fill; only each partition's last block waits this long.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(100);

    /// <summary>Events per send call: the unit of progress.</summary>
    private const int CallSize = 500;

    /// <summary>
    /// Event data queued and not yet appended, at most (256 MiB): enough for a full block pending on each of 256
    /// partitions, while a larger list is not encoded all at once.
    /// </summary>
    private const long MaxBytesInFlight = 256L << 20;

    /// <summary>
    /// Appends <paramref name="events"/> to <paramref name="stream"/> (to <paramref name="partition"/> if given, else by
    /// key) through a producer of its own, and returns their positions in the list's order.
    /// </summary>
    /// <param name="log">The log to append to.</param>
    /// <param name="stream">The stream.</param>
    /// <param name="events">The events, in the order to append them.</param>
    /// <param name="partition">One partition for all events, or null to route each by its key.</param>
    /// <param name="identity">The producer identity to append as (null: the client's).</param>
    /// <param name="progress">Told how many more events were appended, as calls complete (in order).</param>
    /// <param name="cancellationToken">Stops waiting; what was queued may still be appended.</param>
    public static async Task<IReadOnlyList<EventPosition>> SendAllAsync(EventLogClient log, string stream, IReadOnlyList<LogEvent> events, int? partition = null, string? identity = null, Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(events);
        var positions = new List<EventPosition>(events.Count);
        await using EventProducerClient producer = log.CreateProducer(stream, new EventProducerOptions { Identity = identity, Linger = Linger });
        var inFlight = new Queue<(Task<IReadOnlyList<EventPosition>> Call, long Bytes)>();
        long bytesInFlight = 0;
        for (int i = 0; i < events.Count; i += CallSize)
        {
            var call = new List<LogEvent>(Math.Min(CallSize, events.Count - i));
            long bytes = 0;
            for (int j = i; j < Math.Min(i + CallSize, events.Count); j++)
            {
                call.Add(events[j]);
                bytes += events[j].Data?.ToMemory().Length ?? 0;
            }

            while (inFlight.Count > 0 && bytesInFlight + bytes > MaxBytesInFlight)
            {
                bytesInFlight -= await CompleteOldestAsync(inFlight, positions, progress);
            }

            inFlight.Enqueue((partition is { } p ? producer.SendBatchAsync(call, p, cancellationToken) : producer.SendBatchAsync(call, cancellationToken), bytes));
            bytesInFlight += bytes;
        }

        while (inFlight.Count > 0)
        {
            await CompleteOldestAsync(inFlight, positions, progress);
        }

        return positions;
    }

    private static async Task<long> CompleteOldestAsync(Queue<(Task<IReadOnlyList<EventPosition>> Call, long Bytes)> inFlight, List<EventPosition> positions, Action<int>? progress)
    {
        (Task<IReadOnlyList<EventPosition>> call, long bytes) = inFlight.Dequeue();
        IReadOnlyList<EventPosition> done = await call;
        positions.AddRange(done);
        progress?.Invoke(done.Count);
        return bytes;
    }
}
