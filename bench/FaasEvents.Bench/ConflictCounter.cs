using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;

namespace FaasEvents.Bench;

/// <summary>Counts Append Blocks refused with 412 (another writer took the append position) and the bytes they uploaded in vain.</summary>
internal sealed class ConflictCounter : HttpPipelinePolicy
{
    private long conflicts;
    private long wastedBytes;

    public long Conflicts => Interlocked.Read(ref conflicts);

    public long WastedBytes => Interlocked.Read(ref wastedBytes);

    public BlobClientOptions CreateOptions()
    {
        var options = new BlobClientOptions();
        options.AddPolicy(this, HttpPipelinePosition.PerRetry);
        return options;
    }

    public void Reset()
    {
        Interlocked.Exchange(ref conflicts, 0);
        Interlocked.Exchange(ref wastedBytes, 0);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        Count(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        Count(message);
    }

    private void Count(HttpMessage message)
    {
        if (message.HasResponse && message.Response.Status == 412 && message.Request.Uri.Query.Contains("comp=appendblock", StringComparison.OrdinalIgnoreCase))
        {
            Interlocked.Increment(ref conflicts);
            if (message.Request.Content is { } content && content.TryComputeLength(out long length))
            {
                Interlocked.Add(ref wastedBytes, length);
            }
        }
    }
}
