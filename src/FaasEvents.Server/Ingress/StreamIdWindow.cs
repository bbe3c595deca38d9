using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;

namespace FaasEvents.Server.Ingress;

/// <summary>
/// The (source, id) of events recently written to one stream, with their positions, for <see cref="Window"/> and at
/// most <see cref="Capacity"/> ids (the oldest go first); an id being written is held by one request until it
/// completes, so concurrent posts of the same event write it once.
/// </summary>
internal sealed class StreamIdWindow(TimeSpan window, int capacity)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, DateTimeOffset At)> order = new();

    /// <summary>How long an id is remembered.</summary>
    public TimeSpan Window => window;

    /// <summary>How many ids are remembered at most.</summary>
    public int Capacity => capacity;

    /// <summary>How many ids are remembered now.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    /// <summary>
    /// Looks the id up and, unless it is known, pending or uncertain, claims it for the caller. With
    /// <paramref name="searched"/> an uncertain id counts as not written (the caller looked in the log and did not find it).
    /// </summary>
    public IdClaim Claim(string key, DateTimeOffset now, bool searched = false)
    {
        lock (gate)
        {
            Evict(now);
            if (entries.TryGetValue(key, out Entry? entry))
            {
                if (entry.Position is { } position)
                {
                    return new IdClaim(position, null, null);
                }

                if (entry.Pending is { } pending)
                {
                    return new IdClaim(null, pending.Task, null);
                }

                if (!searched)
                {
                    return new IdClaim(null, null, entry.At);
                }
            }

            entries[key] = new Entry { Pending = new TaskCompletionSource<EventPosition?>(TaskCreationOptions.RunContinuationsAsynchronously), At = now };
            order.Enqueue((key, now));
            return default;
        }
    }

    /// <summary>True when the id is remembered as written (a claim would answer its position).</summary>
    public bool Knows(string key)
    {
        lock (gate)
        {
            return entries.TryGetValue(key, out Entry? entry) && entry.Position is not null;
        }
    }

    /// <summary>Records the outcome of writing a claimed id: its position, or that it failed (forgotten) or may have landed (uncertain).</summary>
    public void Complete(string key, EventSendResult result)
    {
        TaskCompletionSource<EventPosition?>? pending;
        lock (gate)
        {
            if (!entries.TryGetValue(key, out Entry? entry) || entry.Pending is null)
            {
                return;
            }

            pending = entry.Pending;
            entry.Pending = null;
            if (result.Position is { } position)
            {
                entry.Position = position;
            }
            else if (!result.Unknown)
            {
                entries.Remove(key);
            }
        }

        pending.TrySetResult(result.Position);
    }

    /// <summary>Remembers an id found in the log (loading the window, or looking for an uncertain write); the first position wins.</summary>
    public void Remember(string key, EventPosition position, DateTimeOffset at)
    {
        lock (gate)
        {
            if (entries.TryGetValue(key, out Entry? entry))
            {
                if (entry.Position is null && entry.Pending is null)
                {
                    entry.Position = position; // an uncertain write: it landed
                }

                return;
            }

            entries[key] = new Entry { Position = position, At = at };
            order.Enqueue((key, at));
            Evict(null); // a long window on a busy stream keeps the newest ids, never more than the capacity
        }
    }

    /// <summary>
    /// Forgets the oldest ids: those older than the window (when <paramref name="now"/> is given) and any beyond the
    /// capacity. An id still being written stops it (it is forgotten after, by a later call), so none is left behind.
    /// </summary>
    private void Evict(DateTimeOffset? now)
    {
        DateTimeOffset oldest = now is { } at ? at - window : DateTimeOffset.MinValue;
        while (order.TryPeek(out (string Key, DateTimeOffset At) first) && (first.At < oldest || entries.Count > capacity))
        {
            bool current = entries.TryGetValue(first.Key, out Entry? entry) && entry.At == first.At;
            if (current && entry!.Pending is not null)
            {
                return;
            }

            order.Dequeue();
            if (current)
            {
                entries.Remove(first.Key);
            }
        }
    }

    private sealed class Entry
    {
        public EventPosition? Position { get; set; }

        public TaskCompletionSource<EventPosition?>? Pending { get; set; }

        public DateTimeOffset At { get; init; }
    }
}
