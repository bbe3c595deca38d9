using Azure.Storage.Blobs.Models;
using FaasEvents.Log;

namespace FaasEvents.Bench;

/// <summary>What the producer benches replay on the raw side: the batch sizes a partition's segments hold, and random payloads.</summary>
internal static class SegmentBlocks
{
    /// <summary>The batch lengths of a partition's segments, in order (a batch header holds its length at byte 8).</summary>
    public static async Task<List<int>> SizesAsync(EventLogClient log, string stream, int partition)
    {
        var sizes = new List<int>();
        await foreach (BlobItem item in log.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"streams/{stream}/{partition:D5}/", CancellationToken.None))
        {
            byte[] bytes = (await log.Container.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToArray();
            for (int pos = 0; pos < bytes.Length;)
            {
                int len = BitConverter.ToInt32(bytes, pos + 8);
                sizes.Add(len);
                pos += len;
            }
        }

        return sizes;
    }

    public static byte[] RandomBytes(int n)
    {
        byte[] b = new byte[n];
        Random.Shared.NextBytes(b);
        return b;
    }
}
