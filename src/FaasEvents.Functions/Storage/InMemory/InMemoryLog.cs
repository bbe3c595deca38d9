using System.Runtime.CompilerServices;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;

namespace FaasEvents.Functions.Storage.InMemory;

/// <summary>
/// Streams kept in memory: a function's trigger (<see cref="IPartitionSource"/>) and where its writes go
/// (<see cref="IOutputSink"/>), with the log's ordering rules (contiguous offsets per partition, key-hashed partitions,
/// appends all-or-nothing, the 1 MiB event limit). Readers that follow are woken by appends, not by a clock, so tests on a fake clock never
/// wait. <see cref="AppendFault"/> makes appends fail on purpose.
/// </summary>
internal sealed class InMemoryLog(TimeProvider time) : IPartitionSource, IOutputSink
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, List<StoredEvent>[]> streams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamDefinition> definitions = new(StringComparer.Ordinal);
    private TaskCompletionSource appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int roundRobin;

    /// <summary>Called before every append with the stream: return an exception to fail that append (nothing is written).</summary>
    public Func<string, Exception?>? AppendFault { get; set; }

    private readonly Dictionary<string, int> appendsTo = new(StringComparer.Ordinal);

    /// <summary>Appends made so far (successful ones), for counting what a run wrote.</summary>
    public int Appends { get; private set; }

    /// <summary>Successful appends to one stream (each like one Append Block per partition it touched).</summary>
    public int AppendsTo(string stream)
    {
        lock (gate)
        {
            return appendsTo.GetValueOrDefault(stream);
        }
    }

    /// <summary>Creates a stream of events (or does nothing if it exists).</summary>
    public void CreateStream(string stream, int partitions) => TryCreateStream(new StreamDefinition { Name = stream, Partitions = partitions });

    /// <summary>Creates a stream; false when one of that name exists.</summary>
    public bool TryCreateStream(StreamDefinition definition)
    {
        definition.Validate();
        lock (gate)
        {
            if (streams.ContainsKey(definition.Name))
            {
                return false;
            }

            streams[definition.Name] = Enumerable.Range(0, definition.Partitions).Select(_ => new List<StoredEvent>()).ToArray();
            definitions[definition.Name] = definition;
            return true;
        }
    }

    /// <summary>The stream's definition, or null when it does not exist.</summary>
    public StreamDefinition? TryGetStream(string stream)
    {
        lock (gate)
        {
            return definitions.GetValueOrDefault(stream);
        }
    }

    /// <summary>Every event of a stream, partition by partition in offset order.</summary>
    public IReadOnlyList<StoredEvent> Events(string stream)
    {
        lock (gate)
        {
            return streams.TryGetValue(stream, out List<StoredEvent>[]? parts) ? parts.SelectMany(p => p).ToList() : [];
        }
    }

    /// <summary>Appends events: keyed ones to their key's partition, others round-robin, one block per partition.</summary>
    public IReadOnlyList<EventPosition> Append(string stream, IReadOnlyList<LogEvent> events, IReadOnlyList<WriterMark>? marks = null)
    {
        if (AppendFault?.Invoke(stream) is { } fault)
        {
            throw fault;
        }

        foreach (LogEvent e in events)
        {
            if (e.EncodedSize > LogEvent.MaxEncodedSize)
            {
                throw new EventLogException(EventLogErrorReason.EventTooLarge, $"Event '{e.Id}' is {e.EncodedSize:N0} bytes encoded; the limit is {LogEvent.MaxEncodedSize:N0} bytes (1 MiB). Nothing was written.");
            }
        }

        var positions = new List<EventPosition>(events.Count);
        lock (gate)
        {
            List<StoredEvent>[] parts = Partitions(stream);
            DateTimeOffset now = time.GetUtcNow();
            for (int i = 0; i < events.Count; i++)
            {
                LogEvent e = events[i];
                int p = e.PartitionKey is { } key ? KeyPartitioner.GetPartition(key, parts.Length) : roundRobin++ % parts.Length;
                var stored = new StoredEvent(p, parts[p].Count, now, e) { Mark = marks?[i] };
                parts[p].Add(stored);
                positions.Add(new EventPosition(p, stored.Offset));
            }

            Appends++;
            appendsTo[stream] = appendsTo.GetValueOrDefault(stream) + 1;
            TaskCompletionSource woken = appended;
            appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            woken.SetResult();
        }

        return positions;
    }

    public Task<int> GetPartitionCountAsync(string stream, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult(Partitions(stream).Length);
        }
    }

    public Task<long> GetEndOffsetAsync(string stream, int partition, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult((long)Partitions(stream)[partition].Count);
        }
    }

    public Task<IReadOnlyList<PartitionInfo>> GetPartitionsAsync(string stream, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            IReadOnlyList<PartitionInfo> infos = Partitions(stream)
                .Select((events, p) => new PartitionInfo(p, 0, events.Count, 1, 0, events.Count > 0 ? events[^1].Timestamp : null))
                .ToList();
            return Task.FromResult(infos);
        }
    }

    /// <summary>Streams here are never created again under a consumer: not tracked.</summary>
    public DateTimeOffset? StreamCreatedAt(string stream) => null;

    /// <summary>The next append to any stream of this log (a wake-up for one partition may be early, never late).</summary>
    public Task NextAppendAsync(string stream, int partition)
    {
        lock (gate)
        {
            return appended.Task;
        }
    }

    /// <summary>Nothing to follow: appends to this log wake its readers directly.</summary>
    public Task FollowAppendNoticesAsync(string stream, Action<string> problem, CancellationToken cancellationToken) => Task.CompletedTask;

    public async IAsyncEnumerable<EventBlock> ReadAsync(string stream, int partition, ReadOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        DuplicateFilter? filter = options.Deduplicate ? options.Filter ?? new DuplicateFilter() : null;
        long next;
        lock (gate)
        {
            List<StoredEvent> events = Partitions(stream)[partition];
            next = options.From.Kind switch
            {
                StartKind.Latest => events.Count,
                StartKind.Offset => Math.Min(options.From.Offset, events.Count),
                StartKind.Time => events.FindIndex(e => e.Timestamp >= options.From.Time) is int i and >= 0 ? i : events.Count,
                _ => 0,
            };
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            StoredEvent[] block;
            Task wake;
            lock (gate)
            {
                List<StoredEvent> events = Partitions(stream)[partition];
                long end = Math.Min(events.Count, options.EndOffset ?? long.MaxValue);
                block = next < end ? events.GetRange((int)next, (int)(end - next)).ToArray() : [];
                wake = appended.Task;
            }

            if (block.Length > 0)
            {
                StoredEvent[] delivered = filter is null ? block : block.Where(filter.Admit).ToArray();
                if (delivered.Length > 0)
                {
                    yield return new EventBlock(delivered, new LogPosition(0, next), new LogPosition(0, next + block.Length));
                }

                next += block.Length;
                continue;
            }

            if (!options.Follow || (options.EndOffset is { } stop && next >= stop))
            {
                yield break;
            }

            await wake.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The in-memory log keeps no contracts: everything is accepted.</summary>
    public Task CheckAsync(string? connection, string stream, IReadOnlyList<LogEvent> events, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task AppendAsync(string? connection, string stream, IReadOnlyList<LogEvent> events, IReadOnlyList<WriterMark>? marks, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            Append(stream, events, marks);
            return Task.CompletedTask;
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    public Task EnsureStreamAsync(string stream, CancellationToken cancellationToken)
    {
        CreateStream(stream, 1);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private List<StoredEvent>[] Partitions(string stream) =>
        streams.TryGetValue(stream, out List<StoredEvent>[]? parts)
            ? parts
            : throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{stream}' does not exist in the in-memory log. Create it first (InMemoryLog.CreateStream).");
}
