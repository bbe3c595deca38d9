using FaasEvents.Log;
using FaasEvents.Log.Streams;

namespace FaasEvents.Functions.Storage.Blob;

/// <summary>A function app's streams in the event log: one <see cref="EventLogClient"/> per connection setting.</summary>
internal sealed class BlobFunctionStorage(Func<string, EventLogClient> clientFor) : IFunctionStorage
{
    public TimeProvider LeaseClock => TimeProvider.System; // storage's clock: leases expire in real time whatever the app's TimeProvider

    public string Describe(string connection)
    {
        EventLogClient log = clientFor(connection);
        return $"{log.StorageDescription}, container '{log.Container.Name}'";
    }

    public Task<StreamDefinition?> TryGetStreamAsync(string connection, string stream, CancellationToken cancellationToken) =>
        clientFor(connection).TryGetStreamAsync(stream, cancellationToken);

    public Task CreateStreamAsync(string connection, StreamDefinition definition, CancellationToken cancellationToken) =>
        clientFor(connection).CreateStreamAsync(definition, cancellationToken);

    public IPartitionSource Source(string connection) => new BlobPartitionSource(clientFor(connection));

    public ICheckpointStore Checkpoints(string connection, string instanceId) => new BlobCheckpointStore(clientFor(connection), instanceId);

    public IOutputSink Outputs(string connection) => new BlobOutputSink(clientFor(connection), clientFor);

    public IQueueStore Queues(string connection) => new BlobQueueStore(clientFor(connection));
}
