using System.Runtime.InteropServices;
using FaasEvents.Log.State;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// One partition's materialized table in memory: typed state per key plus the keys changed since the last commit.
/// Thread-safe: the partition's processor writes while HTTP queries read. A key's state and its dirty mark share one
/// slot, so a fold costs one dictionary lookup to read and one to write (as a hand-written dictionary fold does); a
/// deleted key keeps an empty slot until its deletion is taken for a commit.
/// </summary>
internal sealed class MaterializedTable
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Slot> slots = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, Slot>> dirty = []; // slots whose DirtyAt >= 0, each once
    private int live; // slots holding a value

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
                return live;
            }
        }
    }

    public object? Get(string key)
    {
        lock (gate)
        {
            return slots.TryGetValue(key, out Slot? slot) ? slot.Value : null;
        }
    }

    /// <summary>Sets the key's state (null deletes it), changed by the event at <paramref name="offset"/>.</summary>
    public void Set(string key, object? value, long offset)
    {
        lock (gate)
        {
            Slot slot = SlotOf(key);
            live += (value is null ? 0 : 1) - (slot.Value is null ? 0 : 1);
            slot.Value = value;
            MarkDirty(key, slot, offset);
        }
    }

    /// <summary>Replaces the contents with a restored table (nothing dirty).</summary>
    public void Load(IReadOnlyDictionary<string, BinaryData> restored)
    {
        lock (gate)
        {
            slots.Clear();
            dirty.Clear();
            slots.EnsureCapacity(restored.Count);
            foreach ((string key, BinaryData data) in restored)
            {
                slots[key] = new Slot { Value = Serializer.Deserialize(data, StateType) ?? throw new InvalidDataException($"State of key '{key}' deserialized to null") };
            }

            live = slots.Count;
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
            var offsets = new Dictionary<string, long>(dirty.Count, StringComparer.Ordinal);
            foreach ((string key, Slot slot) in dirty)
            {
                changes[key] = slot.Value is null ? null : Serializer.Serialize(slot.Value, StateType);
                offsets[key] = slot.DirtyAt;
                slot.DirtyAt = -1;
                if (slot.Value is null)
                {
                    slots.Remove(key); // the deletion is taken: nothing left to remember
                }
            }

            dirty.Clear();
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
                Slot slot = SlotOf(key); // a deletion whose slot was dropped comes back empty
                MarkDirty(key, slot, Math.Max(offset, slot.DirtyAt));
            }
        }
    }

    /// <summary>The whole table serialized (for a full snapshot).</summary>
    public Dictionary<string, BinaryData> SerializeAll()
    {
        lock (gate)
        {
            var all = new Dictionary<string, BinaryData>(live, StringComparer.Ordinal);
            foreach ((string key, Slot slot) in slots)
            {
                if (slot.Value is not null)
                {
                    all[key] = Serializer.Serialize(slot.Value, StateType);
                }
            }

            return all;
        }
    }

    public BinaryData? GetSerialized(string key)
    {
        lock (gate)
        {
            return slots.TryGetValue(key, out Slot? slot) && slot.Value is not null ? Serializer.Serialize(slot.Value, StateType) : null;
        }
    }

    /// <summary>A page of keys (ordinal order) with serialized values.</summary>
    public (List<KeyValuePair<string, BinaryData>> Items, string? Next) Page(string? prefix, string? after, int limit)
    {
        lock (gate)
        {
            IEnumerable<KeyValuePair<string, object>> values = slots.Where(kv => kv.Value.Value is not null).Select(kv => new KeyValuePair<string, object>(kv.Key, kv.Value.Value!));
            (List<KeyValuePair<string, object>> items, string? next) = StateReader.SelectPage([values], prefix, after, limit);
            return (items.Select(kv => new KeyValuePair<string, BinaryData>(kv.Key, Serializer.Serialize(kv.Value, StateType))).ToList(), next);
        }
    }

    private Slot SlotOf(string key)
    {
        ref Slot? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(slots, key, out _);
        return slot ??= new Slot();
    }

    private void MarkDirty(string key, Slot slot, long offset)
    {
        if (slot.DirtyAt < 0)
        {
            dirty.Add(new KeyValuePair<string, Slot>(key, slot));
        }

        slot.DirtyAt = offset;
    }

    /// <summary>A key's state (null once deleted) and the offset of its last change not yet taken for a commit (-1: none).</summary>
    private sealed class Slot
    {
        public object? Value { get; set; }

        public long DirtyAt { get; set; } = -1;
    }
}
