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
    private Dictionary<string, long> dirty = new(StringComparer.Ordinal); // changed key -> offset of its last change

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

    /// <summary>Sets the key's state (null deletes it), changed by the event at <paramref name="offset"/>.</summary>
    public void Set(string key, object? value, long offset)
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

            dirty[key] = offset;
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

    /// <summary>
    /// The keys changed since the last call, serialized (null = deleted), with the offset of each one's last change (what
    /// its changelog record is sequenced by); they are no longer dirty.
    /// </summary>
    public (Dictionary<string, BinaryData?> Values, Dictionary<string, long> Offsets) TakeChanges()
    {
        lock (gate)
        {
            var changes = new Dictionary<string, BinaryData?>(dirty.Count, StringComparer.Ordinal);
            foreach (string key in dirty.Keys)
            {
                changes[key] = values.TryGetValue(key, out object? v) ? Serializer.Serialize(v, StateType) : null;
            }

            Dictionary<string, long> offsets = dirty;
            dirty = new Dictionary<string, long>(StringComparer.Ordinal);
            return (changes, offsets);
        }
    }

    /// <summary>A commit failed: mark its keys dirty again so the next commit writes them.</summary>
    public void Untake(Dictionary<string, long> offsets)
    {
        lock (gate)
        {
            foreach ((string key, long offset) in offsets)
            {
                dirty[key] = Math.Max(offset, dirty.GetValueOrDefault(key, -1));
            }
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
