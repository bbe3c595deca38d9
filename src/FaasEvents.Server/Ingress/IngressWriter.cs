using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;

namespace FaasEvents.Server.Ingress;

/// <summary>
/// Writes the events of one ingress request, skipping repeats: an event whose source + id was written to the stream
/// within the window (or earlier in the same request) is answered with that copy's position instead of a new append.
/// Ids are claimed in key order, so concurrent requests sharing events never wait on each other in a circle. Before a
/// repeat is answered from memory, the stream's definition is read again: a stream deleted and created again since
/// (by another replica or the CLI) has none of the old stream's events, so its window starts empty.
/// </summary>
internal sealed class IngressWriter(IngressProducers producers, RecentEventIds recent, KnownStreams streams, TimeProvider time)
{
    /// <summary>Writes <paramref name="events"/> (in order, per partition) as <paramref name="identity"/> and returns one result per event.</summary>
    public async Task<IReadOnlyList<IngressResult>> WriteAsync(StreamDefinition definition, IReadOnlyList<LogEvent> events, string? identity, CancellationToken cancellationToken)
    {
        string stream = definition.Name;
        if (!recent.Enabled)
        {
            return [.. (await producers.For(stream, identity).SendEachAsync(events, cancellationToken)).Select(r => new IngressResult(r, false))];
        }

        StreamIdWindow window = await recent.ForStreamAsync(definition, cancellationToken);
        string[] keys = [.. events.Select(RecentEventIds.Key)];
        if (keys.Any(window.Knows))
        {
            // A position answered without writing must be the current stream's: a cached definition decides nothing.
            StreamDefinition current = await streams.RefreshAsync(stream, cancellationToken)
                ?? throw new EventLogException(EventLogErrorReason.StreamNotFound, $"Stream '{stream}' was deleted.");
            window = await recent.ForStreamAsync(current, cancellationToken);
        }

        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < keys.Length; i++)
        {
            first.TryAdd(keys[i], i);
        }

        var results = new IngressResult?[events.Count];
        var mine = new List<int>();
        try
        {
            foreach ((string key, int index) in first.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (await ClaimAsync(stream, window, key, cancellationToken) is { } known)
                {
                    results[index] = Repeat(known);
                }
                else
                {
                    mine.Add(index);
                }
            }

            mine.Sort();
            // Not cancelled with the request: cancelling stops the wait, not the append, and a claim released while its
            // append is still on its way would let the client's retry write the event again.
            IReadOnlyList<EventSendResult> sent = mine.Count == 0 ? [] : await producers.For(stream, identity).SendEachAsync([.. mine.Select(i => events[i])], CancellationToken.None);
            for (int k = 0; k < mine.Count; k++)
            {
                window.Complete(keys[mine[k]], sent[k]);
                results[mine[k]] = new IngressResult(sent[k], false);
            }
        }
        finally
        {
            foreach (int i in mine.Where(i => results[i] is null))
            {
                window.Complete(keys[i], new EventSendResult(null, null)); // not written: release the claim
            }
        }

        for (int i = 0; i < results.Length; i++)
        {
            results[i] ??= results[first[keys[i]]] is { Sent.Position: { } position } ? Repeat(position) : results[first[keys[i]]];
        }

        return results!;
    }

    private static IngressResult Repeat(EventPosition position) => new(new EventSendResult(position, null), true);

    /// <summary>The id's known position, or null once the caller owns it (waits for a concurrent write of it; searches the log after an uncertain one).</summary>
    private async Task<EventPosition?> ClaimAsync(string stream, StreamIdWindow window, string key, CancellationToken cancellationToken)
    {
        bool searched = false;
        while (true)
        {
            IdClaim claim = window.Claim(key, time.GetUtcNow(), searched);
            if (claim.Mine)
            {
                return null;
            }

            if (claim.Known is { } known)
            {
                return known;
            }

            if (claim.Pending is { } pending)
            {
                if (await pending.WaitAsync(cancellationToken) is { } written)
                {
                    return written;
                }

                searched = false; // that write failed (or is uncertain now): look again
                continue;
            }

            await recent.SearchAsync(stream, window, claim.UncertainSince!.Value, cancellationToken);
            searched = true;
        }
    }
}
