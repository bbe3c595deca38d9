using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using FaasEvents.TestSupport.Faults;

namespace FaasEvents.TestSupport;

/// <summary>Counts the storage requests a client sends, by operation (as <see cref="StorageOperation"/> names them): the cost of a call.</summary>
public sealed class StorageRequestCounter : HttpPipelinePolicy
{
    private readonly ConcurrentDictionary<string, int> counts = new(StringComparer.Ordinal);

    /// <summary>Requests so far, by operation.</summary>
    public IReadOnlyDictionary<string, int> ByOperation => counts;

    /// <summary>Requests so far.</summary>
    public int Total => counts.Values.Sum();

    /// <summary>Storage options that count every request (including the SDK's retries).</summary>
    public BlobClientOptions CreateOptions()
    {
        var options = new BlobClientOptions();
        options.AddPolicy(this, HttpPipelinePosition.PerRetry);
        return options;
    }

    /// <summary>The counts as "operation=n, ..." for a failure message.</summary>
    public override string ToString() => string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"));

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Count(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        counts.AddOrUpdate(StorageOperation.Of(message.Request), 1, (_, n) => n + 1);
    }
}
