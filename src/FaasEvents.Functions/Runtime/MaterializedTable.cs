using FaasEvents.Log.State;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// One partition's materialized table in memory: typed state per key plus the set of keys changed since the last
/// commit. Thread-safe: the partition's processor writes while HTTP queries read.
/// </summary>
internal sealed class MaterializedTable
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, object> values = new(StringComparer.Ordinal);
    private HashSet<string> dirty = new(StringComparer.Ordinal);

    public MaterializedTable(Type stateType, IStateSerializer serializer)
    {
        StateType = stateType;
        Serializer = serializer;
    }

    public Type StateType { get; }

    public IStateSerializer Serializer { get; }

    public int Count
    {
        get
        {
            lock (gate)
            {
                return values.Count;
            }
        }
    }

    public object? Get(string key)
    {
        lock (gate)
        {
            return values.GetValueOrDefault(key);
        }
    }

    /// <summary>Sets the key's state; null deletes it.</summary>
    public void Set(string key, object? value)
    {
        lock (gate)
        {
            if (value is null)
            {
                values.Remove(key);
            }
            else
            {
                values[key] = value;
            }

            dirty.Add(key);
        }
    }

    /// <summary>Replaces the contents with a restored table (nothing dirty).</summary>
    public void Load(IReadOnlyDictionary<string, BinaryData> restored)
    {
        lock (gate)
        {
            values.Clear();
            values.EnsureCapacity(restored.Count);
            foreach ((string key, BinaryData data) in restored)
            {
                values[key] = Serializer.Deserialize(data, StateType) ?? throw new InvalidDataException($"State of key '{key}' deserialized to null");
            }

            dirty.Clear();
        }
    }

    /// <summary>The keys changed since the last call, serialized (null = deleted); they are no longer dirty.</summary>
    public Dictionary<string, BinaryData?> TakeChanges()
    {
        lock (gate)
        {
            var changes = new Dictionary<string, BinaryData?>(dirty.Count, StringComparer.Ordinal);
            foreach (string key in dirty)
            {
                changes[key] = values.TryGetValue(key, out object? v) ? Serializer.Serialize(v, StateType) : null;
            }

            dirty = new HashSet<string>(StringComparer.Ordinal);
            return changes;
        }
    }

    /// <summary>A commit failed: mark its keys dirty again so the next commit writes them.</summary>
    public void Untake(IEnumerable<string> keys)
    {
        lock (gate)
        {
            dirty.UnionWith(keys);
        }
    }

    /// <summary>The whole table serialized (for a full snapshot).</summary>
    public Dictionary<string, BinaryData> SerializeAll()
    {
        lock (gate)
        {
            var all = new Dictionary<string, BinaryData>(values.Count, StringComparer.Ordinal);
            foreach ((string key, object v) in values)
            {
                all[key] = Serializer.Serialize(v, StateType);
            }

            return all;
        }
    }

    public BinaryData? GetSerialized(string key)
    {
        lock (gate)
        {
            return values.TryGetValue(key, out object? v) ? Serializer.Serialize(v, StateType) : null;
        }
    }

    /// <summary>A page of keys (ordinal order) with serialized values.</summary>
    public (List<KeyValuePair<string, BinaryData>> Items, string? Next) Page(string? prefix, string? after, int limit)
    {
        lock (gate)
        {
            (List<KeyValuePair<string, object>> items, string? next) = StateReader.SelectPage([values], prefix, after, limit);
            return (items.Select(kv => new KeyValuePair<string, BinaryData>(kv.Key, Serializer.Serialize(kv.Value, StateType))).ToList(), next);
        }
    }
}
