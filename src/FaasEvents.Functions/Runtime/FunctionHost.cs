using System.Collections.Concurrent;
using FaasEvents.Log;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>Everything one function needs at run time: its log client, invoker, options, outputs and dead letters.</summary>
internal sealed class FunctionHost
{
    private readonly Func<string, EventLogClient> clientFor;
    private readonly ConcurrentDictionary<EventLogClient, EventProducerPool> pools = new();

    public FunctionHost(FunctionDefinition function, EventLogClient log, Func<string, EventLogClient> clientFor, FunctionInvoker invoker, EventLogHostOptions options, SemaphoreSlim concurrency, TimeProvider time, ILogger logger, string instanceId, IStateSerializer? serializer = null)
    {
        Serializer = serializer ?? new JsonStateSerializer();
        Function = function;
        Log = log;
        this.clientFor = clientFor;
        Invoker = invoker;
        Options = options;
        Concurrency = concurrency;
        Time = time;
        Logger = logger;
        InstanceId = instanceId;
    }

    public FunctionDefinition Function { get; }

    public EventLogClient Log { get; }

    public FunctionInvoker Invoker { get; }

    public EventLogHostOptions Options { get; }

    public SemaphoreSlim Concurrency { get; }

    public TimeProvider Time { get; }

    /// <summary>The clock leases are stamped with: storage's real time, like the log client's (not the injected <see cref="Time"/>).</summary>
    public TimeProvider LeaseClock { get; } = TimeProvider.System;

    public ILogger Logger { get; }

    public string InstanceId { get; }

    /// <summary>A materializer's state serializer.</summary>
    public IStateSerializer Serializer { get; }

    /// <summary>A materializer's live tables, by owned partition (queries read these before persisted state).</summary>
    public ConcurrentDictionary<int, MaterializedTable> Tables { get; } = new();

    /// <summary>Appends events to a stream of the function's storage (a materializer's changelog).</summary>
    public Task AppendAsync(string stream, IReadOnlyList<LogEvent> events, CancellationToken cancellationToken) =>
        Producer(Log, stream).SendBatchAsync(events, cancellationToken);

    public async Task AppendOutputsAsync(IReadOnlyList<LogEvent> outputs, CancellationToken cancellationToken)
    {
        EventOutputAttribute output = Function.Output!;
        EventLogClient client = output.Connection is null ? Log : clientFor(output.Connection);
        await Producer(client, output.Stream).SendBatchAsync(outputs, cancellationToken);
    }

    /// <summary>
    /// Appends the events to the dead-letter stream with the error (<see cref="DeadLetterRecord"/>). Storage failures
    /// are retried until the letter is written or the partition stops, and reported to <paramref name="stall"/>; any
    /// other failure (the letter can never be written) is thrown for the partition to halt on.
    /// </summary>
    public async Task DeadLetterAsync(IReadOnlyList<StoredEvent> events, int partition, Exception error, int attempts, WriteStall stall, CancellationToken cancellationToken)
    {
        string stream = Options.DeadLetterStreamFor(Function);
        string message = ErrorText(error);
        DateTimeOffset now = Time.GetUtcNow();
        var letters = events.Select(e => DeadLetterRecord.Create(e, DeadLetterRecord.Attributes(message, attempts, Function, partition, e.Offset, now))).ToList();
        string what = $"{Function.Name}: dead-letter write of {Function.Stream} partition {partition} offset {events[0].Offset} to '{stream}'";
        // Never dropped: storage failures are retried as for any runtime write (the partition does not move on until
        // the letter is written); anything else means it can never be written and is thrown for the partition to halt on.
        await InfrastructureRetry.RunAsync(
            async ct =>
            {
                if (await Log.TryGetStreamAsync(stream, ct) is null)
                {
                    try
                    {
                        await Log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 1 }, ct);
                    }
                    catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.StreamAlreadyExists)
                    {
                    }
                }

                await Producer(Log, stream).SendBatchAsync(letters, ct);
            },
            what,
            Logger,
            Time,
            stall,
            cancellationToken);
        Logger.LogError(error, "{Function}: dead-lettered {Count} event(s) from {Stream} partition {Partition} at offset {Offset} to '{DeadLetter}' after {Attempts} tries", Function.Name, events.Count, Function.Stream, partition, events[0].Offset, stream, attempts);
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

    public async ValueTask DisposeProducersAsync()
    {
        foreach (EventProducerPool pool in pools.Values)
        {
            await pool.DisposeAsync();
        }
    }

    private EventProducerClient Producer(EventLogClient client, string stream) =>
        pools.GetOrAdd(client, c => new EventProducerPool(c, new EventProducerOptions { Linger = TimeSpan.Zero })).For(stream);
}
