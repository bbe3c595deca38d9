using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Storage.Blobs.Models;

namespace FaasEvents.Log;

/// <summary>One key's committed value.</summary>
/// <param name="Key">The key.</param>
/// <param name="Partition">The partition holding it (the key's partition under the stream's partitioner).</param>
/// <param name="Value">The value, or null when the key is absent or deleted.</param>
/// <param name="NextOffset">The offset the partition's committed state reflects (null = nothing committed yet).</param>
public sealed record StateEntry(string Key, int Partition, BinaryData? Value, long? NextOffset);

/// <summary>A page of a key scan, in ordinal key order.</summary>
/// <param name="Items">Keys and values.</param>
/// <param name="Next">Pass as <c>after</c> to get the next page; null on the last page.</param>
public sealed record StatePage(IReadOnlyList<KeyValuePair<string, BinaryData>> Items, string? Next);

/// <summary>
/// Reads a consumer group's committed keyed state (a materializer's table) from storage, without owning any
/// partition: so queries work while the function is scaled to zero. Each partition's table is cached until its
/// committed tip moves (one metadata read per partition per query checks that).
/// </summary>
public sealed class StateReader
{
    private readonly EventLogClient log;
    private readonly ConcurrentDictionary<int, (string? Tip, long? Offset, IReadOnlyDictionary<string, BinaryData> Table)> cache = new();
    private int partitions;

    internal StateReader(EventLogClient log, string group, string stream)
    {
        CheckpointStore.Validate(group, stream, 0);
        this.log = log;
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
        (long? offset, IReadOnlyDictionary<string, BinaryData> table) = await ReadPartitionAsync(partition, cancellationToken);
        return new StateEntry(key, partition, table.TryGetValue(key, out BinaryData? value) ? value : null, offset);
    }

    /// <summary>The partition holding <paramref name="key"/> (the stream's partition count is read once and cached: it never changes).</summary>
    public async Task<int> PartitionOfAsync(string key, CancellationToken cancellationToken = default) =>
        KeyPartitioner.GetPartition(key, await PartitionCountAsync(cancellationToken));

    /// <summary>Keys starting with <paramref name="prefix"/> and after <paramref name="after"/>, at most <paramref name="limit"/>, across all partitions.</summary>
    public async Task<StatePage> ScanAsync(string? prefix = null, string? after = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        int count = await PartitionCountAsync(cancellationToken);
        var tables = await Task.WhenAll(Enumerable.Range(0, count).Select(p => ReadPartitionAsync(p, cancellationToken)));
        (List<KeyValuePair<string, BinaryData>> items, string? next) = SelectPage(tables.Select(t => t.Table), prefix, after, limit);
        return new StatePage(items, next);
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

    /// <summary>One partition's committed table and the offset it reflects.</summary>
    public async Task<(long? NextOffset, IReadOnlyDictionary<string, BinaryData> Table)> ReadPartitionAsync(int partition, CancellationToken cancellationToken = default)
    {
        (long? offset, string? tip) = await log.Checkpoints.GetStateAsync(Group, Stream, partition, cancellationToken);
        if (cache.TryGetValue(partition, out var cached) && cached.Tip == tip)
        {
            return (cached.Offset, cached.Table);
        }

        RestoredState restored = await log.CreateStateStore(Group, Stream, partition).RestoreAsync(cancellationToken);
        cache[partition] = (tip, restored.NextOffset, restored.Table);
        return (restored.NextOffset, restored.Table);
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
    public static async Task<IReadOnlyList<string>> FindStreamsAsync(EventLogClient log, string group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        StreamDefinition.ValidateName(group, "consumer group");
        var streams = new List<string>();
        string prefix = $"state/{group}/";
        try
        {
            await foreach (BlobHierarchyItem item in log.Container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", prefix, cancellationToken))
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
            partitions = (await log.GetStreamAsync(Stream, cancellationToken)).Partitions;
        }

        return partitions;
    }
}
