using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using FaasEvents.Log.Retry;

namespace FaasEvents.Log.Notices;

/// <summary>
/// Append notices through a FaasEvents server: tells it about this process's appends (<c>POST /streams/{s}/appended</c>,
/// so its scaler wakes a function from zero and the instances watching the stream read at once), and follows its notices
/// about everyone's appends (<c>GET /streams/{s}/appends</c>, server-sent events). Best effort both ways: a notice that
/// is lost only means a reader finds the events at its next poll; an append never waits for, or fails with, a notice.
/// </summary>
internal sealed class ServerNotices
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A notice that fails is tried again this many times (after 200, 400, 800 ms), then dropped.</summary>
    private const int MaxSendRetries = 3;

    /// <summary>A watch that hears nothing (not even the server's keep-alive) this long reconnects.</summary>
    internal static readonly TimeSpan SilenceLimit = TimeSpan.FromSeconds(45);

    /// <summary>A watch connected this long has its reconnect back-off reset (one that the server keeps closing does not).</summary>
    private static readonly TimeSpan StableConnection = TimeSpan.FromSeconds(30);

    private readonly HttpClient http;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<string, PendingEnds> pending = new(StringComparer.Ordinal);

    public ServerNotices(Uri server, string? apiKey, TimeProvider time)
    {
        http = new HttpClient { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        if (FaasSettings.ParseServerApiKey(apiKey) is { } key)
        {
            http.DefaultRequestHeaders.Add("x-api-key", key);
        }

        this.time = time;
        Server = server;
    }

    public Uri Server { get; }

    /// <summary>Notices sent and failed so far (a failure costs nothing but the wake-up).</summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <inheritdoc cref="Sent"/>
    public long Failed => Interlocked.Read(ref failed);

    private long sent;
    private long failed;

    /// <summary>Notes an append (its last offset); sent at once, or merged into the notice that follows the one in flight.</summary>
    public void Appended(string stream, int partition, long lastOffset)
    {
        PendingEnds ends = pending.GetOrAdd(stream, _ => new PendingEnds());
        lock (ends)
        {
            ends.Ends[partition] = ends.Ends.TryGetValue(partition, out long known) ? Math.Max(known, lastOffset) : lastOffset;
            if (ends.Sending)
            {
                return;
            }

            ends.Sending = true;
            ends.Task = Task.Run(() => SendAsync(stream, ends));
        }
    }

    /// <summary>Waits (at most <paramref name="limit"/>) for the notices noted so far to be sent or to fail.</summary>
    public async Task FlushAsync(TimeSpan limit)
    {
        Task[] sending = [.. pending.Values.Select(p => { lock (p) { return p.Task; } })];
        try
        {
            await Task.WhenAll(sending).WaitAsync(limit, time);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // best effort (timed out, or a send that failed): the readers' polls find the events anyway
        }
    }

    private async Task SendAsync(string stream, PendingEnds ends)
    {
        int failures = 0;
        try
        {
            while (true)
            {
                Dictionary<int, long> taken;
                lock (ends)
                {
                    if (ends.Ends.Count == 0)
                    {
                        return;
                    }

                    taken = new Dictionary<int, long>(ends.Ends);
                    ends.Ends.Clear();
                }

                if (await PostAsync(stream, taken))
                {
                    failures = 0;
                    continue;
                }

                if (++failures > MaxSendRetries)
                {
                    continue; // given up on these ends: readers' polls and the scaler's reads find the events anyway
                }

                lock (ends)
                {
                    foreach ((int partition, long offset) in taken)
                    {
                        ends.Ends[partition] = ends.Ends.TryGetValue(partition, out long newer) ? Math.Max(newer, offset) : offset;
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200 << (failures - 1)), time);
            }
        }
        finally
        {
            lock (ends)
            {
                ends.Sending = false;
                if (ends.Ends.Count > 0)
                {
                    ends.Sending = true; // noted while this loop was ending: a new loop takes them
                    ends.Task = Task.Run(() => SendAsync(stream, ends));
                }
            }
        }
    }

    /// <summary>One notice; false when it was not accepted (never throws: a notice must not hurt its sender).</summary>
    private async Task<bool> PostAsync(string stream, Dictionary<int, long> ends)
    {
        string body = "[" + string.Join(",", ends.Select(e => string.Create(CultureInfo.InvariantCulture, $"{{\"partition\":{e.Key},\"offset\":{e.Value}}}"))) + "]";
        try
        {
            using var cts = new CancellationTokenSource(SendTimeout);
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using HttpResponseMessage response = await http.PostAsync(new Uri($"streams/{Uri.EscapeDataString(stream)}/appended", UriKind.Relative), content, cts.Token);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref sent);
                return true;
            }

            Interlocked.Increment(ref failed);
            return false;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Interlocked.Increment(ref failed);
            return false;
        }
    }

    /// <summary>
    /// Follows the server's notices of appends to <paramref name="stream"/>, handing each notice's partitions to
    /// <paramref name="appended"/>, until cancelled; reconnects after a failure (1 s, doubling up to 30 s), telling
    /// <paramref name="problem"/> once per outage.
    /// </summary>
    public async Task FollowAsync(string stream, Action<IReadOnlyList<int>> appended, Action<string>? problem, CancellationToken cancellationToken)
    {
        TimeSpan wait = TimeSpan.FromSeconds(1);
        bool reported = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                silence.CancelAfter(SilenceLimit);
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"streams/{Uri.EscapeDataString(stream)}/appends", UriKind.Relative));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, silence.Token);
                if (!response.IsSuccessStatusCode)
                {
                    throw new HttpRequestException($"the server answered {(int)response.StatusCode} {response.ReasonPhrase}" + (response.StatusCode == System.Net.HttpStatusCode.Unauthorized ? " (set FAAS_SERVER_API_KEY to one of the server's FAAS_API_KEYS)" : ""));
                }

                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(silence.Token), Encoding.UTF8);
                reported = false;
                long connected = time.GetTimestamp();
                while (await reader.ReadLineAsync(silence.Token) is { } line)
                {
                    silence.CancelAfter(SilenceLimit);
                    if (line.StartsWith("data:", StringComparison.Ordinal) && Parse(line.AsSpan(5)) is { Count: > 0 } partitions)
                    {
                        appended(partitions);
                    }

                    if (time.GetElapsedTime(connected) > StableConnection)
                    {
                        wait = TimeSpan.FromSeconds(1); // a watch that lasts is healthy: the next outage starts its back-off afresh
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (!reported)
                {
                    reported = true;
                    try
                    {
                        problem?.Invoke($"append notices of stream '{stream}' from {Server} are unavailable ({ex.Message}); readers poll until they come back");
                    }
                    catch (Exception reporting) when (reporting is not OutOfMemoryException)
                    {
                        // whoever listens failed: following goes on regardless
                    }
                }
            }

            try
            {
                await Task.Delay(Backoff.WithJitter(wait, TimeSpan.FromMilliseconds(200), Random.Shared), time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            wait = wait * 2 > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : wait * 2;
        }
    }

    private static List<int> Parse(ReadOnlySpan<char> data)
    {
        var partitions = new List<int>();
        foreach (Range r in data.Split(','))
        {
            if (int.TryParse(data[r].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int p))
            {
                partitions.Add(p);
            }
        }

        return partitions;
    }

    private sealed class PendingEnds
    {
        public Dictionary<int, long> Ends { get; } = [];

        public bool Sending { get; set; }

        public Task Task { get; set; } = Task.CompletedTask;
    }
}
