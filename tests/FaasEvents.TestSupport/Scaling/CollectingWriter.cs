using Grpc.Core;

namespace FaasEvents.TestSupport.Scaling;

/// <summary>Collects what a server-streaming method wrote.</summary>
public sealed class CollectingWriter<T> : IServerStreamWriter<T>
{
    private readonly List<T> written = [];

    public WriteOptions? WriteOptions { get; set; }

    public IReadOnlyList<T> Written
    {
        get
        {
            lock (written)
            {
                return [.. written];
            }
        }
    }

    public Task WriteAsync(T message, CancellationToken cancellationToken) => WriteAsync(message);

    public Task WriteAsync(T message)
    {
        lock (written)
        {
            written.Add(message);
        }

        return Task.CompletedTask;
    }
}
