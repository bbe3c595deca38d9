using System.Collections.Concurrent;

namespace FaasEvents.Server.Scaling;

/// <summary>
/// Who is watching which stream's appends (function instances holding <c>GET /streams/{s}/appends</c> open), and the
/// fan-out of each append notice to them. A slow watcher never holds up an append: notices for it merge into one set of
/// partitions until it takes them.
/// </summary>
public sealed class AppendWatchers
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<AppendWatcher, byte>> byStream = new(StringComparer.Ordinal);

    /// <summary>Starts watching <paramref name="stream"/>; dispose the watcher to stop.</summary>
    public AppendWatcher Watch(string stream)
    {
        ConcurrentDictionary<AppendWatcher, byte> set = byStream.GetOrAdd(stream, _ => new ConcurrentDictionary<AppendWatcher, byte>());
        var watcher = new AppendWatcher(w => set.TryRemove(w, out _));
        set.TryAdd(watcher, 0);
        return watcher;
    }

    /// <summary>Watchers of the stream now (for tests and metrics).</summary>
    public int Count(string stream) => byStream.TryGetValue(stream, out ConcurrentDictionary<AppendWatcher, byte>? set) ? set.Count : 0;

    /// <summary>Tells every watcher of the stream that these partitions were appended to.</summary>
    public void Publish(string stream, IReadOnlyCollection<int> partitions)
    {
        if (partitions.Count == 0 || !byStream.TryGetValue(stream, out ConcurrentDictionary<AppendWatcher, byte>? set))
        {
            return;
        }

        foreach (AppendWatcher w in set.Keys)
        {
            w.Add(partitions);
        }
    }
}
