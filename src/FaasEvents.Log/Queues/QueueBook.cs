using System.Globalization;
using System.Text.Json;

using FaasEvents.Log.Consumers;

namespace FaasEvents.Log.Queues;

/// <summary>
/// The state of one partition consumed as a queue, and its rules, without storage: the offset below which everything
/// is settled, the offsets settled above it, and the events in flight (owner, lock, delivery count and history, when
/// a released one becomes visible). <see cref="PartitionQueue"/> keeps it in one blob changed with If-Match; the
/// runtime's in-memory storage keeps it under a lock. Not thread-safe: one caller changes one copy.
/// </summary>
public sealed class QueueBook
{
    /// <summary>Delivery history kept per event (the latest ones).</summary>
    public const int MaxHistory = 10;

    /// <summary>Longest error text kept in a delivery's history.</summary>
    public const int MaxErrorLength = 300;

    /// <summary>What a delivery whose lock ran out is recorded as.</summary>
    public const string LockExpired = "lock expired";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SortedSet<long> settled = [];
    private readonly SortedDictionary<long, Entry> inFlight = [];

    /// <summary>Every event below this offset is settled.</summary>
    public long SettledBelow { get; private set; }

    /// <summary>Events in flight.</summary>
    public int InFlightCount => inFlight.Count;

    /// <summary>What the queue's function did (the sum of what its rounds carried).</summary>
    public WorkCounts Counts { get; private set; } = WorkCounts.None;

    /// <summary>Reads a stored book (null or empty: a new queue).</summary>
    public static QueueBook Parse(BinaryData? stored)
    {
        var book = new QueueBook();
        if (stored is null || stored.ToMemory().IsEmpty)
        {
            return book;
        }

        Document doc = stored.ToObjectFromJson<Document>(Json) ?? new Document(0, [], []);
        book.SettledBelow = doc.SettledBelow;
        book.settled.UnionWith(doc.Settled ?? []);
        book.Counts = WorkCounts.Parse(doc.Counts) ?? WorkCounts.None;
        foreach ((string offset, Entry held) in doc.InFlight ?? [])
        {
            book.inFlight[long.Parse(offset, CultureInfo.InvariantCulture)] = held with { History = held.History ?? [] };
        }

        return book;
    }

    /// <summary>A queue nothing has consumed yet that starts at <paramref name="offset"/> (a group starting at the latest event).</summary>
    public static QueueBook StartingAt(long offset)
    {
        var book = new QueueBook();
        book.Raise(offset);
        return book;
    }

    /// <summary>The stored form.</summary>
    public BinaryData ToBinaryData() => BinaryData.FromObjectAsJson(
        new Document(SettledBelow, [.. settled], inFlight.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value), Counts.IsNone ? null : Counts.ToString()),
        Json);

    /// <summary>
    /// Events below <paramref name="floor"/> no longer exist (retention) or are not wanted (a queue that starts at the
    /// end): they count as settled, whatever their state. True when that changed anything.
    /// </summary>
    public bool Raise(long floor)
    {
        if (floor <= SettledBelow)
        {
            return false;
        }

        SettledBelow = floor;
        settled.RemoveWhere(o => o < floor);
        foreach (long o in inFlight.Keys.Where(o => o < floor).ToList())
        {
            inFlight.Remove(o);
        }

        Advance();
        return true;
    }

    /// <summary>
    /// An operator's reset: every event below <paramref name="offset"/> counts as settled and every one at or above it is
    /// delivered again; the events in flight and their locks go (their holders' outcomes are refused). The counts stay.
    /// </summary>
    public void ResetTo(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        SettledBelow = offset;
        settled.Clear();
        inFlight.Clear();
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> free events below <paramref name="endOffset"/> and within
    /// <paramref name="window"/> of the settled offset for <paramref name="owner"/>, lowest first: not settled, not
    /// locked (an expired lock is free, and recorded in the event's history) and visible (a released one after its backoff).
    /// </summary>
    public IReadOnlyList<QueueDelivery> Acquire(int partition, string owner, int max, TimeSpan lockDuration, long endOffset, int window, DateTimeOffset now)
    {
        var taken = new List<QueueDelivery>();
        long limit = Math.Min(endOffset, SettledBelow + window);
        for (long offset = SettledBelow; offset < limit && taken.Count < max; offset++)
        {
            if (settled.Contains(offset))
            {
                continue;
            }

            inFlight.TryGetValue(offset, out Entry? held);
            bool free = held is null || (held.Owner is null ? held.VisibleAt <= now : held.LockedUntil <= now);
            if (!free)
            {
                continue;
            }

            IReadOnlyList<QueueAttempt> history = held?.History ?? [];
            if (held?.Owner is { } expiredOwner)
            {
                history = Append(history, new QueueAttempt(expiredOwner, held.LockedUntil, LockExpired));
            }

            var next = new Entry(owner, now + lockDuration, (held?.Deliveries ?? 0) + 1, now, [.. history]);
            inFlight[offset] = next;
            taken.Add(new QueueDelivery(partition, offset, next.Deliveries, next.LockedUntil) { History = next.History });
        }

        return taken;
    }

    /// <summary>
    /// Applies the outcomes of events <paramref name="owner"/> still holds (lock not expired) and returns the offsets it
    /// no longer held: their outcome is not applied (someone else may have them). The settled offset moves over every
    /// contiguous settled event.
    /// </summary>
    public IReadOnlyList<long> Settle(string owner, IReadOnlyList<QueueSettlement> settlements, DateTimeOffset now)
    {
        var lost = new List<long>();
        foreach (QueueSettlement s in settlements)
        {
            if (!Holds(owner, s.Offset, now, out Entry? held))
            {
                lost.Add(s.Offset);
                continue;
            }

            if (s.Outcome == QueueOutcome.Returned)
            {
                inFlight[s.Offset] = held with { Owner = null, LockedUntil = now, VisibleAt = now, Deliveries = held.Deliveries - 1 };
            }
            else if (s.Outcome == QueueOutcome.Released)
            {
                string why = s.Error is { Length: > MaxErrorLength } e ? e[..MaxErrorLength] : s.Error ?? "released";
                inFlight[s.Offset] = held with { Owner = null, LockedUntil = now, VisibleAt = now + s.Backoff, History = [.. Append(held.History, new QueueAttempt(owner, now, why))] };
            }
            else
            {
                inFlight.Remove(s.Offset);
                settled.Add(s.Offset);
            }
        }

        Advance();
        return lost;
    }

    /// <summary>Extends the locks <paramref name="owner"/> still holds to <paramref name="lockDuration"/> from now; returns the offsets it no longer held.</summary>
    public IReadOnlyList<long> Renew(string owner, IReadOnlyList<long> offsets, TimeSpan lockDuration, DateTimeOffset now)
    {
        var lost = new List<long>();
        foreach (long offset in offsets)
        {
            if (Holds(owner, offset, now, out Entry? held))
            {
                inFlight[offset] = held with { LockedUntil = now + lockDuration };
            }
            else
            {
                lost.Add(offset);
            }
        }

        return lost;
    }

    /// <summary>
    /// One round of a consumer in one change: events below <paramref name="floor"/> count as settled, the owner's
    /// <paramref name="settlements"/> are applied, and up to <paramref name="max"/> events acquired. <paramref name="changed"/>
    /// says whether the book must be stored. <paramref name="counts"/> (what the owner's function did since its last
    /// counted round) are added when the round changes the book anyway, so counting costs no write of its own:
    /// <see cref="QueueUpdate.Counted"/> says whether they were.
    /// </summary>
    public QueueUpdate Round(int partition, string owner, IReadOnlyList<QueueSettlement> settlements, int max, TimeSpan lockDuration, long endOffset, long floor, int window, DateTimeOffset now, out bool changed, WorkCounts? counts = null)
    {
        ArgumentNullException.ThrowIfNull(settlements);
        bool raised = Raise(floor);
        IReadOnlyList<long> lost = settlements.Count == 0 ? [] : Settle(owner, settlements, now);
        IReadOnlyList<QueueDelivery> taken = max == 0 ? [] : Acquire(partition, owner, max, lockDuration, endOffset, window, now);
        changed = raised || lost.Count < settlements.Count || taken.Count > 0;
        bool counted = changed && counts is { IsNone: false };
        if (counted)
        {
            Counts += counts!;
        }

        DateTimeOffset? nextAvailable = null;
        foreach (Entry e in inFlight.Values)
        {
            DateTimeOffset at = e.Owner is null ? e.VisibleAt : e.LockedUntil;
            if (nextAvailable is null || at < nextAvailable)
            {
                nextAvailable = at;
            }
        }

        return new QueueUpdate(lost, taken) { NextAvailableAt = nextAvailable, Window = SettledBelow + window < endOffset, SettledBelow = SettledBelow, Counted = counted };
    }

    /// <summary>Events not settled below <paramref name="endOffset"/> (the queue group's lag).</summary>
    public long Unsettled(long endOffset) => Math.Max(0, endOffset - SettledBelow - settled.Count(o => o < endOffset));

    /// <summary>The state for display.</summary>
    public QueueState ToState() => new(
        SettledBelow,
        inFlight.Select(kv => new QueueInFlight(kv.Key, kv.Value.Owner, kv.Value.LockedUntil, kv.Value.Deliveries, kv.Value.VisibleAt) { History = kv.Value.History ?? [] }).ToList(),
        [.. settled]) { Counts = Counts.IsNone ? null : Counts };

    private bool Holds(string owner, long offset, DateTimeOffset now, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Entry? held) =>
        inFlight.TryGetValue(offset, out held) && held.Owner == owner && held.LockedUntil > now;

    private void Advance()
    {
        while (settled.Remove(SettledBelow))
        {
            SettledBelow++;
        }
    }

    private static IReadOnlyList<QueueAttempt> Append(IReadOnlyList<QueueAttempt> history, QueueAttempt attempt) =>
        history.Count < MaxHistory ? [.. history, attempt] : [.. history.Skip(history.Count - MaxHistory + 1), attempt];

    private sealed record Entry(string? Owner, DateTimeOffset LockedUntil, int Deliveries, DateTimeOffset VisibleAt, List<QueueAttempt> History);

    private sealed record Document(long SettledBelow, List<long> Settled, Dictionary<string, Entry> InFlight, string? Counts = null);
}
