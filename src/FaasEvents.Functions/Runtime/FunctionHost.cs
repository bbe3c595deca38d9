using System.Collections.Concurrent;
using FaasEvents.Functions.Storage;
using FaasEvents.Log.Events;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// What one function's balancer and partition processors share: the function, where its events come from
/// (<see cref="Source"/>), where its ownership and progress are kept (<see cref="Checkpoints"/>), where its writes go
/// (<see cref="Outputs"/>), its invoker and options, and the clocks and randomness they run on. Every member is set
/// explicitly by whoever builds it (the runtime with blob storage, tests with the in-memory implementations).
/// </summary>
internal sealed class FunctionHost
{
    public required FunctionDefinition Function { get; init; }

    public required IPartitionSource Source { get; init; }

    public required ICheckpointStore Checkpoints { get; init; }

    public required IOutputSink Outputs { get; init; }

    public required FunctionInvoker Invoker { get; init; }

    public required EventLogHostOptions Options { get; init; }

    /// <summary>Bounds invocations in flight across the instance's partitions.</summary>
    public required SemaphoreSlim Concurrency { get; init; }

    /// <summary>The clock for retries, polling and balancing.</summary>
    public required TimeProvider Time { get; init; }

    /// <summary>The clock leases are stamped with: storage's real time in production (not the injected <see cref="Time"/>).</summary>
    public required TimeProvider LeaseClock { get; init; }

    public required ILogger Logger { get; init; }

    /// <summary>Picks among equally good partitions when claiming and stealing.</summary>
    public Random Random { get; init; } = Random.Shared;

    /// <summary>A materializer's state serializer.</summary>
    public IStateSerializer Serializer { get; init; } = new JsonStateSerializer();

    public string InstanceId => Checkpoints.OwnerId;

    /// <summary>A materializer's live tables, by owned partition (queries read these before persisted state).</summary>
    public ConcurrentDictionary<int, MaterializedTable> Tables { get; } = new();

    /// <summary>Writes the function's dead letters.</summary>
    public DeadLetterWriter DeadLetters => deadLetters ??= new DeadLetterWriter(Function, Options.DeadLetterStreamFor(Function), Outputs, Time, Logger);

    private DeadLetterWriter? deadLetters;

    /// <summary>Throws what the output stream's contract would refuse the invocation's outputs with (schema, owner).</summary>
    public Task CheckOutputsAsync(IReadOnlyList<LogEvent> outputs, CancellationToken cancellationToken) =>
        Outputs.CheckAsync(Function.Output!.Connection, Function.Output.Stream, outputs, cancellationToken);

    /// <summary>Appends what an invocation returned to the function's output stream.</summary>
    public Task AppendOutputsAsync(IReadOnlyList<LogEvent> outputs, IReadOnlyList<WriterMark> marks, CancellationToken cancellationToken) =>
        Outputs.AppendAsync(Function.Output!.Connection, Function.Output.Stream, outputs, marks, cancellationToken);
}
