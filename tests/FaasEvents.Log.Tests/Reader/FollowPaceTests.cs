using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.Reader;

/// <summary>
/// A following reader pays for its polls: it backs off while nothing arrives, and an append made in this process (or
/// announced to it) wakes it at once instead of waiting for its next poll.
/// </summary>
public class FollowPaceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task An_idle_following_reader_backs_off_to_its_longest_poll_interval()
    {
        var counter = new StorageRequestCounter();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = counter.CreateOptions() });
        await log.CreateStreamAsync(new StreamDefinition { Name = "quiet", Partitions = 1 });
        await using (EventProducerClient p = log.CreateProducer("quiet"))
        {
            await p.SendAsync(TestEvents.Json("only"));
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var options = new ReadOptions { Follow = true, PollInterval = TimeSpan.FromMilliseconds(20), MaxPollInterval = TimeSpan.FromMilliseconds(320) };
        int before = 0;
        int seen = 0;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        Task follow = Task.Run(async () =>
        {
            await foreach (StoredEvent _ in log.ReadPartitionAsync("quiet", 0, options, idle.Token))
            {
                seen++;
                before = Reads(counter);
                idle.CancelAfter(TimeSpan.FromSeconds(3));
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follow);

        // 3 s of nothing: a poll every 20 ms is ~150 reads; backing off 20, 40, 80, 160, 320, 320... is ~12.
        int idleReads = Reads(counter) - before;
        Assert.Equal(1, seen);
        Assert.True(idleReads <= 30, $"{idleReads} reads in 3 idle seconds ({counter})");
    }

    [Fact]
    public async Task An_append_made_in_this_process_wakes_a_following_reader_at_once()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "bell", Partitions = 2 });
        CancellationToken ct = TestEvents.Timeout(30);
        await using EventProducerClient producer = azurite.CreateClientFor(log).CreateProducer("bell", new EventProducerOptions { Linger = TimeSpan.Zero });
        await producer.SendAsync(TestEvents.Json("first"), 1, ct); // the partition has a segment: the reader waits at its end

        // Polls 10 minutes apart: only the append's signal can deliver the event within the test's 30 s.
        var options = new ReadOptions { From = StartPosition.FromOffset(1), Follow = true, PollInterval = TimeSpan.FromMinutes(10), MaxPollInterval = TimeSpan.FromMinutes(10) };
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task follow = Task.Run(async () =>
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync("bell", 1, options, stop.Token))
            {
                got.TrySetResult(e.Event.Id);
            }
        });

        await Task.Delay(500, ct); // let the reader reach the end and wait
        await producer.SendAsync(TestEvents.Json("second"), 1, ct);
        Assert.Equal("second", await got.Task.WaitAsync(TimeSpan.FromSeconds(20), ct));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follow);
    }

    [Fact]
    public async Task A_reader_of_an_empty_partition_is_woken_by_the_first_append()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "empty", Partitions = 1 });
        CancellationToken ct = TestEvents.Timeout(30);
        var options = new ReadOptions { Follow = true, PollInterval = TimeSpan.FromMinutes(10), MaxPollInterval = TimeSpan.FromMinutes(10) };
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task follow = Task.Run(async () =>
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync("empty", 0, options, stop.Token))
            {
                got.TrySetResult(e.Event.Id);
            }
        });

        await Task.Delay(500, ct);
        await using (EventProducerClient producer = azurite.CreateClientFor(log).CreateProducer("empty"))
        {
            await producer.SendAsync(TestEvents.Json("hello"), ct);
        }

        Assert.Equal("hello", await got.Task.WaitAsync(TimeSpan.FromSeconds(20), ct));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follow);
    }

    [Fact]
    public async Task NextAppendAsync_completes_at_this_process_s_next_append_or_announcement_of_the_partition_only()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "next", Partitions = 2 });
        CancellationToken ct = TestEvents.Timeout(30);
        Task p0 = log.NextAppendAsync("next", 0);
        Task p1 = log.NextAppendAsync("next", 1);
        await using (EventProducerClient producer = azurite.CreateClientFor(log).CreateProducer("next"))
        {
            await producer.SendAsync(TestEvents.Json("a"), 0, ct);
        }

        await p0.WaitAsync(TimeSpan.FromSeconds(10), ct); // rung by the append, not by a poll
        Assert.False(p1.IsCompleted); // the other partition heard nothing
        log.AnnounceAppended("next", [1]); // what the server's notices do for another process's append
        await p1.WaitAsync(TimeSpan.FromSeconds(10), ct);

        using var cancel = new CancellationTokenSource();
        Task waiting = log.NextAppendAsync("next", 0, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting); // cancelling stops the wait only
    }

    private static int Reads(StorageRequestCounter counter) =>
        counter.ByOperation.Where(o => o.Key is "GetBlob" or "List").Sum(o => o.Value);
}
