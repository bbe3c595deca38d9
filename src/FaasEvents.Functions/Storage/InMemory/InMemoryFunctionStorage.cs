using FaasEvents.Log;
using FaasEvents.Log.Streams;

namespace FaasEvents.Functions.Storage.InMemory;

/// <summary>A whole function app on <see cref="InMemoryLog"/> and <see cref="InMemoryPartitions"/>: every connection setting names the same in-memory log.</summary>
internal sealed class InMemoryFunctionStorage(InMemoryLog log, InMemoryPartitions partitions) : IFunctionStorage
{
    public TimeProvider LeaseClock => partitions.Clock;

    public InMemoryLog Log => log;

    public InMemoryPartitions Partitions => partitions;

    public string Describe(string connection) => "in-memory storage";

    public Task<StreamDefinition?> TryGetStreamAsync(string connection, string stream, CancellationToken cancellationToken) =>
        Task.FromResult(log.TryGetStream(stream));

    public Task CreateStreamAsync(string connection, StreamDefinition definition, CancellationToken cancellationToken)
    {
        if (!log.TryCreateStream(definition))
        {
            throw new EventLogException(EventLogErrorReason.StreamAlreadyExists, $"Stream '{definition.Name}' already exists.");
        }

        return Task.CompletedTask;
    }

    public IPartitionSource Source(string connection) => log;

    public ICheckpointStore Checkpoints(string connection, string instanceId) => new InMemoryCheckpointStore(partitions, instanceId);

    public IOutputSink Outputs(string connection) => log;

    public IQueueStore Queues(string connection) => partitions.Queues;
}
