using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace FaasEvents.Log.State;

/// <summary>
/// Reads one committed (immutable) state blob by key without loading it: its index is read once (one properties read
/// and one ranged read of the tail), then a key costs one ranged read of its block. A version 1 blob (no index) is
/// read whole, as before.
/// </summary>
internal sealed class StateBlobReader
{
    private const int TailRead = 64 * 1024;
    private readonly BlobClient blob;
    private readonly string name;
    private readonly List<StateBlockRef>? blocks;
    private readonly List<(string Key, BinaryData? Value)>? legacy;

    private StateBlobReader(BlobClient blob, string? prev, List<StateBlockRef>? blocks, List<(string Key, BinaryData? Value)>? legacy)
    {
        this.blob = blob;
        name = blob.Name;
        Prev = prev;
        this.blocks = blocks;
        this.legacy = legacy;
    }

    /// <summary>The blob's name.</summary>
    public string Name => name;

    /// <summary>The previous blob of the chain (null after a full snapshot).</summary>
    public string? Prev { get; }

    public static async Task<StateBlobReader> OpenAsync(BlobContainerClient container, string name, CancellationToken cancellationToken)
    {
        BlobClient blob = container.GetBlobClient(name);
        BlobProperties props = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        string? prev = props.Metadata.TryGetValue("prev", out string? p) && p.Length > 0 ? p : null;
        long size = props.ContentLength;
        long tailStart = Math.Max(0, size - TailRead);
        byte[] tail = (await blob.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(tailStart, size - tailStart) }, cancellationToken)).Value.Content.ToArray();
        if (tailStart == 0 && StateBlobFormat.IsVersion1(tail))
        {
            return new StateBlobReader(blob, prev, null, StateBlobFormat.DecodeV1(name, tail).OrderBy(e => e.Key, StringComparer.Ordinal).ToList());
        }

        if (tail.Length < StateBlobFormat.FooterSize || !tail.AsSpan(tail.Length - 4).SequenceEqual("FESX"u8))
        {
            // No footer: a version 1 blob larger than the tail read.
            byte[] whole = (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
            return new StateBlobReader(blob, prev, null, StateBlobFormat.DecodeV1(name, whole).OrderBy(e => e.Key, StringComparer.Ordinal).ToList());
        }

        (long indexOffset, int indexLength, uint crc) = StateBlobFormat.ReadFooter(name, tail.AsSpan(tail.Length - StateBlobFormat.FooterSize));
        byte[] index = indexOffset >= tailStart
            ? tail.AsSpan((int)(indexOffset - tailStart), indexLength).ToArray()
            : (await blob.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(indexOffset, indexLength) }, cancellationToken)).Value.Content.ToArray();
        return new StateBlobReader(blob, prev, StateBlobFormat.DecodeIndex(name, index, crc), null);
    }

    /// <summary>The key's entry in this blob: not found, a value, or a deletion (found with a null value).</summary>
    public async Task<(bool Found, BinaryData? Value)> FindAsync(string key, CancellationToken cancellationToken)
    {
        if (legacy is not null)
        {
            int at = legacy.BinarySearch((key, null), KeyOrder.Instance);
            return at >= 0 ? (true, legacy[at].Value) : (false, null);
        }

        int block = BlockFor(key);
        if (block < 0)
        {
            return (false, null);
        }

        foreach ((string k, BinaryData? v) in await ReadBlockAsync(blocks![block], cancellationToken))
        {
            if (k == key)
            {
                return (true, v);
            }
        }

        return (false, null);
    }

    /// <summary>Entries in key order from the first key that is after <paramref name="after"/> and not below <paramref name="from"/>, read a block at a time.</summary>
    public async IAsyncEnumerable<(string Key, BinaryData? Value)> EntriesAsync(string? after, string? from, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? low = after is null ? from : from is null || string.CompareOrdinal(after, from) > 0 ? after : from;
        bool Wanted(string k) => (after is null || string.CompareOrdinal(k, after) > 0) && (from is null || string.CompareOrdinal(k, from) >= 0);
        if (legacy is not null)
        {
            foreach ((string Key, BinaryData? Value) e in legacy.Where(e => Wanted(e.Key)))
            {
                yield return e;
            }

            yield break;
        }

        for (int b = low is null ? 0 : Math.Max(0, BlockFor(low)); b < blocks!.Count; b++)
        {
            foreach ((string Key, BinaryData? Value) e in await ReadBlockAsync(blocks[b], cancellationToken))
            {
                if (Wanted(e.Key))
                {
                    yield return e;
                }
            }
        }
    }

    /// <summary>The last block whose first key is not above <paramref name="key"/> (-1: the key is below every block).</summary>
    private int BlockFor(string key)
    {
        int lo = 0, hi = blocks!.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (string.CompareOrdinal(blocks[mid].FirstKey, key) <= 0)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    private async Task<List<(string Key, BinaryData? Value)>> ReadBlockAsync(StateBlockRef block, CancellationToken cancellationToken)
    {
        try
        {
            BinaryData frame = (await blob.DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(block.Offset, block.Length) }, cancellationToken)).Value.Content;
            return StateBlobFormat.DecodeBlock(name, frame.ToMemory().Span);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new StateBlobGoneException(name, ex);
        }
    }

    private sealed class KeyOrder : IComparer<(string Key, BinaryData? Value)>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare((string Key, BinaryData? Value) x, (string Key, BinaryData? Value) y) => string.CompareOrdinal(x.Key, y.Key);
    }
}
