using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Storage;

namespace FaasEvents.Log.Queues;

/// <summary>
/// One partition of a stream consumed as a queue by a consumer group, without a coordinator: its state — the offset
/// below which everything is settled, the settled offsets above it, and the events in flight (owner, lock, delivery
/// count, when a released one becomes visible) — is one blob,
/// <c>queues/{stream}/{created}/{group}/{partition:D5}.json</c> (the stream's creation time: a stream created again
/// starts a new queue; deleting the stream deletes its queues),
/// changed only with <c>If-Match</c> on the ETag it was read with, so instances that race re-read and try again and
/// never acquire the same event at once. Acquisition works in batches within a bounded window above the settled offset.
/// </summary>
public sealed class PartitionQueue
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly LogStore store;
    private readonly BlobClient blob;

    internal PartitionQueue(LogStore store, string group, Streams.StreamDefinition stream, int partition)
    {
        this.store = store;
        Group = group;
        Stream = stream.Name;
        Partition = partition;
        blob = store.Container.GetBlobClient(StoragePaths.Queue(stream.Name, stream.CreatedAt, group, partition));
    }

    /// <summary>The consumer group.</summary>
    public string Group { get; }

    /// <summary>The stream.</summary>
    public string Stream { get; }

    /// <summary>The partition.</summary>
    public int Partition { get; }

    /// <summary>The most events in flight or settled out of order above the settled offset (the window).</summary>
    public int Window { get; init; } = 1000;

    /// <summary>
    /// Acquires up to <paramref name="max"/> available events below <paramref name="endOffset"/> for
    /// <paramref name="owner"/>, each locked for <paramref name="lockDuration"/>: not settled, not locked by anyone (a
    /// lock that expired counts as free), and visible (a released one after its backoff). Lowest offsets first.
    /// </summary>
    public async Task<IReadOnlyList<QueueDelivery>> AcquireAsync(string owner, int max, TimeSpan lockDuration, long endOffset, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return await UpdateAsync(state =>
        {
            DateTimeOffset now = store.TimeProvider.GetUtcNow();
            var taken = new List<QueueDelivery>();
            long limit = Math.Min(endOffset, state.SettledBelow + Window);
            for (long offset = state.SettledBelow; offset < limit && taken.Count < max; offset++)
            {
                if (state.Settled.Contains(offset))
                {
                    continue;
                }

                state.InFlight.TryGetValue(offset, out InFlight? held);
                bool free = held is null || (held.Owner is null ? held.VisibleAt <= now : held.LockedUntil <= now);
                if (!free)
                {
                    continue;
                }

                var next = new InFlight(owner, now + lockDuration, (held?.Deliveries ?? 0) + 1, now);
                state.InFlight[offset] = next;
                taken.Add(new QueueDelivery(Partition, offset, next.Deliveries, next.LockedUntil));
            }

            return (taken.Count > 0, (IReadOnlyList<QueueDelivery>)taken);
        }, cancellationToken);
    }

    /// <summary>
    /// Settles events <paramref name="owner"/> holds; returns the offsets it no longer held (its lock expired and someone
    /// else may have them: their outcome is not applied). The settled offset moves over every contiguous settled event.
    /// </summary>
    public async Task<IReadOnlyList<long>> SettleAsync(string owner, IReadOnlyList<QueueSettlement> settlements, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentNullException.ThrowIfNull(settlements);
        return await UpdateAsync(state =>
        {
            DateTimeOffset now = store.TimeProvider.GetUtcNow();
            var lost = new List<long>();
            foreach (QueueSettlement s in settlements)
            {
                if (!state.InFlight.TryGetValue(s.Offset, out InFlight? held) || held.Owner != owner || held.LockedUntil <= now)
                {
                    lost.Add(s.Offset);
                    continue;
                }

                if (s.Outcome == QueueOutcome.Released)
                {
                    state.InFlight[s.Offset] = held with { Owner = null, LockedUntil = now, VisibleAt = now + s.Backoff };
                }
                else
                {
                    state.InFlight.Remove(s.Offset);
                    state.Settled.Add(s.Offset);
                }
            }

            while (state.Settled.Remove(state.SettledBelow))
            {
                state.SettledBelow++;
            }

            return (lost.Count < settlements.Count, (IReadOnlyList<long>)lost);
        }, cancellationToken);
    }

    /// <summary>The queue's state now: settled offset, in-flight events (with owners and delivery counts), settled out of order.</summary>
    public async Task<QueueState> GetStateAsync(CancellationToken cancellationToken = default) => (await ReadAsync(cancellationToken)).State.ToPublic();

    private async Task<T> UpdateAsync<T>(Func<State, (bool Changed, T Result)> change, CancellationToken cancellationToken)
    {
        await store.EnsureContainerAsync(cancellationToken);
        for (int attempt = 0; ; attempt++)
        {
            (State state, ETag? etag) = await ReadAsync(cancellationToken);
            (bool changed, T result) = change(state);
            if (!changed)
            {
                return result;
            }

            try
            {
                await blob.UploadAsync(
                    BinaryData.FromObjectAsJson(state.ToDocument(), Json),
                    new BlobUploadOptions { Conditions = etag is { } e ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All } },
                    cancellationToken);
                return result;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 50)
            {
                // Another instance changed the queue since we read it: read again and decide again.
            }
        }
    }

    private async Task<(State State, ETag? ETag)> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            Response<BlobDownloadResult> read = await blob.DownloadContentAsync(cancellationToken);
            Document doc = read.Value.Content.ToObjectFromJson<Document>(Json) ?? new Document(0, [], []);
            return (State.From(doc), read.Value.Details.ETag);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return (new State(), null);
        }
    }

    private sealed record InFlight(string? Owner, DateTimeOffset LockedUntil, int Deliveries, DateTimeOffset VisibleAt);

    private sealed record Document(long SettledBelow, List<long> Settled, Dictionary<string, InFlight> InFlight);

    private sealed class State
    {
        public long SettledBelow { get; set; }

        public SortedSet<long> Settled { get; } = [];

        public SortedDictionary<long, InFlight> InFlight { get; } = [];

        public static State From(Document doc)
        {
            var s = new State { SettledBelow = doc.SettledBelow };
            s.Settled.UnionWith(doc.Settled ?? []);
            foreach ((string offset, InFlight held) in doc.InFlight ?? [])
            {
                s.InFlight[long.Parse(offset, CultureInfo.InvariantCulture)] = held;
            }

            return s;
        }

        public Document ToDocument() => new(SettledBelow, [.. Settled], InFlight.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value));

        public QueueState ToPublic() => new(SettledBelow, InFlight.Select(kv => new QueueInFlight(kv.Key, kv.Value.Owner, kv.Value.LockedUntil, kv.Value.Deliveries, kv.Value.VisibleAt)).ToList(), [.. Settled]);
    }
}
