using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Server.Ingress;

namespace FaasEvents.Server.Tests.Ingress;

/// <summary>The ingress's window of recent event ids: bounded in count and age, including ids that were still being written when they became the oldest.</summary>
public class StreamIdWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    private static void Write(StreamIdWindow window, string key, long offset)
    {
        Assert.True(window.Claim(key, Now).Mine);
        window.Complete(key, new EventSendResult(new EventPosition(0, offset), null));
    }

    [Fact]
    public void An_id_still_being_written_when_it_is_the_oldest_is_forgotten_after_its_write()
    {
        var window = new StreamIdWindow(TimeSpan.FromHours(1), capacity: 2);
        Assert.True(window.Claim("slow", Now).Mine); // its append takes a while
        Write(window, "b", 1);
        Write(window, "c", 2);
        Write(window, "d", 3); // over capacity while "slow" is the oldest and still pending
        window.Complete("slow", new EventSendResult(new EventPosition(0, 0), null));
        Write(window, "e", 4);
        Write(window, "f", 5);

        Assert.True(window.Count <= 3, $"{window.Count} ids kept with a capacity of 2");
        Assert.True(window.Claim("slow", Now).Mine); // the oldest went first
    }

    [Fact]
    public void Ids_older_than_the_window_are_forgotten_and_the_newest_are_kept()
    {
        var window = new StreamIdWindow(TimeSpan.FromMinutes(10), capacity: 100);
        window.Remember("old", new EventPosition(0, 0), Now - TimeSpan.FromMinutes(11));
        window.Remember("new", new EventPosition(0, 1), Now - TimeSpan.FromMinutes(1));

        Assert.True(window.Claim("old", Now).Mine);
        Assert.Equal(new EventPosition(0, 1), window.Claim("new", Now).Known);
    }

    [Fact]
    public async Task A_failed_write_frees_the_id_and_an_unknown_one_asks_for_a_search()
    {
        var window = new StreamIdWindow(TimeSpan.FromMinutes(10), capacity: 100);
        Assert.True(window.Claim("failed", Now).Mine);
        Task<EventPosition?> waiting = window.Claim("failed", Now).Pending!;
        window.Complete("failed", new EventSendResult(null, new InvalidOperationException("refused")));
        Assert.Null(await waiting);
        Assert.True(window.Claim("failed", Now).Mine);

        Assert.True(window.Claim("unknown", Now).Mine);
        window.Complete("unknown", new EventSendResult(null, new FaasEvents.Log.EventLogException(FaasEvents.Log.EventLogErrorReason.StorageFailure, "lost answer") { MayHaveBeenWritten = true }));
        Assert.Equal(Now, window.Claim("unknown", Now).UncertainSince);
        Assert.True(window.Claim("unknown", Now, searched: true).Mine);
    }
}
