using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.State;

/// <summary>
/// Reads a consumer group's committed keyed state (a materializer's table) from storage, without owning any
/// partition: so queries work while the function is scaled to zero. Memory stays bounded whatever the table's size:
/// a point read fetches the key's block from each blob of the committed chain (newest first) with ranged reads, and a
/// scan reads blocks in key order only as far as its page needs. Only each blob's index (a few bytes per 64 KiB of
/// state) is kept. Every query reads each partition's committed tip first (one metadata read), so what a reader returns
/// never goes back in time.
/// </summary>
public sealed class StateReader
{
    private const int MaxAttempts = 5;
    private readonly LogStore store;
    private readonly StreamCatalog streams;
    private readonly CheckpointStore checkpoints;
    private readonly ConcurrentDictionary<int, (string? Tip, IReadOnlyList<StateBlobReader> Links)> chains = new();
    private readonly ConcurrentDictionary<string, StateBlobReader> opened = new(StringComparer.Ordinal);
    private int partitions;

    internal StateReader(LogStore store, StreamCatalog streams, CheckpointStore checkpoints, string group, string stream)
    {
        CheckpointStore.Validate(group, stream, 0);
        this.store = store;
        this.streams = streams;
        this.checkpoints = checkpoints;
        Group = group;
        Stream = stream;
    }

    /// <summary>Consumer group (the materializer).</summary>
    public string Group { get; }

    /// <summary>Stream.</summary>
    public string Stream { get; }

    /// <summary>The committed value of <paramref name="key"/> (Value null when absent or deleted).</summary>
    public async Task<StateEntry> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        int partition = await PartitionOfAsync(key, cancellationToken);
        return await WithChainAsync(partition, async (offset, links) =>
        {
            foreach (StateBlobReader link in links)
            {
                (bool found, BinaryData? value) = await link.FindAsync(key, cancellationToken);
                if (found)
                {
                    return new StateEntry(key, partition, value, offset);
                }
            }

            return new StateEntry(key, partition, null, offset);
        }, cancellationToken);
    }

    /// <summary>The partition holding <paramref name="key"/> (the stream's partition count is read once and cached: it never changes).</summary>
    public async Task<int> PartitionOfAsync(string key, CancellationToken cancellationToken = default) =>
        KeyPartitioner.GetPartition(key, await PartitionCountAsync(cancellationToken));

    /// <summary>Keys starting with <paramref name="prefix"/> and after <paramref name="after"/>, at most <paramref name="limit"/>, across all partitions.</summary>
    public async Task<StatePage> ScanAsync(string? prefix = null, string? after = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        int count = await PartitionCountAsync(cancellationToken);
        // One more than the page per partition: if any partition has more, the merged page sees more than `limit`.
        StatePage[] pages = await Task.WhenAll(Enumerable.Range(0, count).Select(p => ScanPartitionAsync(p, prefix, after, limit + 1, cancellationToken)));
        (List<KeyValuePair<string, BinaryData>> items, string? next) = SelectPage(pages.Select(p => p.Items), prefix, after, limit);
        return new StatePage(items, next);
    }

    /// <summary>
    /// One partition's live keys (with the prefix, after <paramref name="after"/>) in key order, at most
    /// <paramref name="limit"/>: the chain's blobs are merged newest-wins a block at a time, deletions dropped.
    /// </summary>
    public Task<StatePage> ScanPartitionAsync(int partition, string? prefix, string? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return WithChainAsync(partition, async (_, links) =>
        {
            var items = new List<KeyValuePair<string, BinaryData>>(Math.Min(limit, 1024));
            await foreach ((string key, BinaryData? value) in NewestWinsAsync(links, after, prefix, cancellationToken))
            {
                if (prefix is not null && !key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    break; // keys are in order: past the prefix's range
                }

                if (value is null)
                {
                    continue;
                }

                if (items.Count == limit)
                {
                    return new StatePage(items, items[^1].Key);
                }

                items.Add(new KeyValuePair<string, BinaryData>(key, value));
            }

            return new StatePage(items, null);
        }, cancellationToken);
    }

    /// <summary>Every key (with the prefix) in key order, page by page.</summary>
    public async IAsyncEnumerable<KeyValuePair<string, BinaryData>> ScanAllAsync(string? prefix = null, int pageSize = 1000, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (string? after = null; ;)
        {
            StatePage page = await ScanAsync(prefix, after, pageSize, cancellationToken);
            foreach (KeyValuePair<string, BinaryData> item in page.Items)
            {
                yield return item;
            }

            if ((after = page.Next) is null)
            {
                yield break;
            }
        }
    }

    /// <summary>One partition's whole committed table and the offset it reflects (held in memory: prefer <see cref="ScanPartitionAsync"/> for large tables).</summary>
    public Task<(long? NextOffset, IReadOnlyDictionary<string, BinaryData> Table)> ReadPartitionAsync(int partition, CancellationToken cancellationToken = default) =>
        WithChainAsync(partition, async (offset, links) =>
        {
            var table = new Dictionary<string, BinaryData>(StringComparer.Ordinal);
            await foreach ((string key, BinaryData? value) in NewestWinsAsync(links, null, null, cancellationToken))
            {
                if (value is not null)
                {
                    table[key] = value;
                }
            }

            return (offset, (IReadOnlyDictionary<string, BinaryData>)table);
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="read"/> on the partition's committed chain (newest blob first) as of its tip now; if a blob
    /// of it is swept meanwhile (a newer snapshot was committed), reads the tip again and starts over.
    /// </summary>
    private async Task<T> WithChainAsync<T>(int partition, Func<long?, IReadOnlyList<StateBlobReader>, Task<T>> read, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            (long? offset, string? tip) = await checkpoints.GetStateAsync(Group, Stream, partition, cancellationToken);
            try
            {
                return await read(offset, await ChainAsync(partition, tip, cancellationToken));
            }
            catch (Exception ex) when (attempt < MaxAttempts && ex is StateBlobGoneException or RequestFailedException { Status: 404 })
            {
                chains.TryRemove(partition, out _);
            }
        }
    }

    private async Task<IReadOnlyList<StateBlobReader>> ChainAsync(int partition, string? tip, CancellationToken cancellationToken)
    {
        if (chains.TryGetValue(partition, out var cached) && cached.Tip == tip)
        {
            return cached.Links;
        }

        var links = new List<StateBlobReader>();
        for (string? name = tip; name is not null;)
        {
            if (!opened.TryGetValue(name, out StateBlobReader? link))
            {
                link = await StateBlobReader.OpenAsync(store.Container, name, cancellationToken);
                opened[name] = link;
            }

            links.Add(link);
            name = link.Prev;
        }

        chains[partition] = (tip, links);
        HashSet<string> live = [.. chains.Values.SelectMany(c => c.Links).Select(l => l.Name)];
        foreach (string gone in opened.Keys.Where(k => !live.Contains(k)).ToList())
        {
            opened.TryRemove(gone, out _); // superseded blobs' indexes are not kept
        }

        return links;
    }

    /// <summary>The chain's entries in key order, each key once with its newest entry (null value = deleted).</summary>
    private static async IAsyncEnumerable<(string Key, BinaryData? Value)> NewestWinsAsync(IReadOnlyList<StateBlobReader> links, string? after, string? from, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var cursors = new List<IAsyncEnumerator<(string Key, BinaryData? Value)>>(links.Count);
        var heap = new PriorityQueue<int, (string Key, int Rank)>(Comparer<(string Key, int Rank)>.Create((a, b) => string.CompareOrdinal(a.Key, b.Key) is var c && c != 0 ? c : a.Rank.CompareTo(b.Rank)));
        try
        {
            for (int rank = 0; rank < links.Count; rank++)
            {
                IAsyncEnumerator<(string Key, BinaryData? Value)> cursor = links[rank].EntriesAsync(after, from, cancellationToken).GetAsyncEnumerator(cancellationToken);
                cursors.Add(cursor);
                if (await cursor.MoveNextAsync())
                {
                    heap.Enqueue(rank, (cursor.Current.Key, rank));
                }
            }

            while (heap.TryDequeue(out int rank, out var top))
            {
                (string Key, BinaryData? Value) newest = cursors[rank].Current;
                await AdvanceAsync(rank);
                while (heap.TryPeek(out int other, out var next) && next.Key == top.Key)
                {
                    heap.Dequeue();
                    await AdvanceAsync(other); // an older entry of the same key: superseded
                }

                yield return newest;
            }
        }
        finally
        {
            foreach (IAsyncEnumerator<(string Key, BinaryData? Value)> cursor in cursors)
            {
                await cursor.DisposeAsync();
            }
        }

        async Task AdvanceAsync(int rank)
        {
            if (await cursors[rank].MoveNextAsync())
            {
                heap.Enqueue(rank, (cursors[rank].Current.Key, rank));
            }
        }
    }

    /// <summary>
    /// Merges tables into one ordinal-ordered page: keys with the prefix, greater than <paramref name="after"/>,
    /// the first <paramref name="limit"/> of them (selected without sorting whole tables).
    /// </summary>
    public static (List<KeyValuePair<string, TValue>> Items, string? Next) SelectPage<TValue>(IEnumerable<IEnumerable<KeyValuePair<string, TValue>>> tables, string? prefix, string? after, int limit)
    {
        ArgumentNullException.ThrowIfNull(tables);
        // Keep the `limit` smallest keys in a max-heap: O(n log limit).
        var heap = new PriorityQueue<KeyValuePair<string, TValue>, string>(Comparer<string>.Create((a, b) => string.CompareOrdinal(b, a)));
        bool more = false;
        foreach (IEnumerable<KeyValuePair<string, TValue>> table in tables)
        {
            foreach (KeyValuePair<string, TValue> kv in table)
            {
                if ((prefix is not null && !kv.Key.StartsWith(prefix, StringComparison.Ordinal)) || (after is not null && string.CompareOrdinal(kv.Key, after) <= 0))
                {
                    continue;
                }

                if (heap.Count < limit)
                {
                    heap.Enqueue(kv, kv.Key);
                }
                else
                {
                    more = true;
                    if (string.CompareOrdinal(kv.Key, heap.Peek().Key) < 0)
                    {
                        heap.EnqueueDequeue(kv, kv.Key);
                    }
                }
            }
        }

        var items = new List<KeyValuePair<string, TValue>>(heap.Count);
        while (heap.Count > 0)
        {
            items.Add(heap.Dequeue());
        }

        items.Reverse();
        return (items, more ? items[^1].Key : null);
    }

    /// <summary>Streams that group <paramref name="group"/> has committed state for (to find a materializer's stream by name).</summary>
    internal static async Task<IReadOnlyList<string>> FindStreamsAsync(LogStore store, string group, CancellationToken cancellationToken)
    {
        StreamDefinition.ValidateName(group, "consumer group");
        var streams = new List<string>();
        string prefix = $"state/{group}/";
        try
        {
            await foreach (BlobHierarchyItem item in store.Container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", prefix, cancellationToken))
            {
                if (item.IsPrefix)
                {
                    streams.Add(item.Prefix[prefix.Length..].TrimEnd('/'));
                }
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return streams;
    }

    /// <summary>A value as JSON when it is JSON (the default state serializer), else as a base64 string.</summary>
    public static JsonElement AsJson(BinaryData value)
    {
        ArgumentNullException.ThrowIfNull(value);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(value.ToMemory());
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(Convert.ToBase64String(value.ToMemory().Span));
        }
    }

    /// <summary>The stream's partition count (read once).</summary>
    public async Task<int> PartitionCountAsync(CancellationToken cancellationToken = default)
    {
        if (partitions == 0)
        {
            partitions = (await streams.GetStreamAsync(Stream, cancellationToken)).Partitions;
        }

        return partitions;
    }
}
