using FaasEvents.Log.Streams;

namespace FaasEvents.Functions.Storage;

/// <summary>
/// Where a function app keeps its streams, by storage connection setting: the streams' definitions (checked and
/// created at start-up) and, per function, its <see cref="IPartitionSource"/>, <see cref="ICheckpointStore"/> and
/// <see cref="IOutputSink"/>. <see cref="Blob.BlobFunctionStorage"/> is the event log; <see cref="InMemory.InMemoryFunctionStorage"/>
/// runs a whole app without storage (tests).
/// </summary>
internal interface IFunctionStorage
{
    /// <summary>The clock leases expire by (storage's real time for the blob log).</summary>
    TimeProvider LeaseClock { get; }

    /// <summary>Where the connection's streams live, safe to print (never a key).</summary>
    string Describe(string connection);

    /// <summary>The stream's definition, or null when it does not exist.</summary>
    Task<StreamDefinition?> TryGetStreamAsync(string connection, string stream, CancellationToken cancellationToken);

    /// <summary>Creates a stream; <see cref="Log.EventLogErrorReason.StreamAlreadyExists"/> when it exists.</summary>
    Task CreateStreamAsync(string connection, StreamDefinition definition, CancellationToken cancellationToken);

    /// <summary>Where a function on <paramref name="connection"/> reads its trigger.</summary>
    IPartitionSource Source(string connection);

    /// <summary>Where a function on <paramref name="connection"/> keeps leases and checkpoints, acting as <paramref name="instanceId"/>.</summary>
    ICheckpointStore Checkpoints(string connection, string instanceId);

    /// <summary>Where a function on <paramref name="connection"/> writes (its outputs may name another connection).</summary>
    IOutputSink Outputs(string connection);

    /// <summary>Where queue-consumed groups on <paramref name="connection"/> keep their partitions' queue state.</summary>
    IQueueStore Queues(string connection);
}
