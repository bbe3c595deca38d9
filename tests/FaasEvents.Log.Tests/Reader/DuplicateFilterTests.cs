using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;

namespace FaasEvents.Log.Tests.Reader;

/// <summary>The reader filter of docs/storage-format.md ("The reader filter"), without storage.</summary>
public class DuplicateFilterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid A = Guid.Parse("00000000-0000-8000-8000-00000000000a");
    private static readonly Guid B = Guid.Parse("00000000-0000-8000-8000-00000000000b");

    [Fact]
    public void Each_sequence_of_a_writer_is_delivered_once_and_plain_records_always()
    {
        var filter = new DuplicateFilter();
        StoredEvent[] log = [At(0, A, 1), At(1, A, 2), At(2, B, 1), At(3, A, 1), At(4, A, 2), At(5, null, 0), At(6, A, 3), At(7, B, 1), At(8, null, 0)];

        long[] delivered = [.. log.Where(filter.Admit).Select(e => e.Offset)];

        Assert.Equal([0L, 1, 2, 5, 6, 8], delivered); // offsets 3, 4 and 7 are copies
        Assert.Equal(3, filter.Skipped);
    }

    [Fact]
    public void A_checkpoint_stores_only_what_was_delivered_below_its_offset_so_a_successor_delivers_the_rest()
    {
        DuplicateFilter first = DuplicateFilter.Restore(null);
        Assert.True(first.Admit(At(0, A, 10)));
        Assert.True(first.Admit(At(1, A, 11))); // admitted, but not handled when the checkpoint at 1 is written

        string? state = first.Settle(1, Now, DuplicateFilter.DefaultWindow);
        DuplicateFilter successor = DuplicateFilter.Restore(state);

        Assert.False(successor.Admit(At(5, A, 10))); // a copy of what was delivered below the checkpoint
        Assert.True(successor.Admit(At(1, A, 11))); // not delivered before the checkpoint: the successor delivers it
    }

    [Fact]
    public void Writers_idle_longer_than_the_window_are_forgotten()
    {
        DuplicateFilter filter = DuplicateFilter.Restore(null);
        filter.Admit(At(0, A, 1, Now - TimeSpan.FromDays(8)));
        filter.Admit(At(1, B, 1, Now - TimeSpan.FromDays(1)));

        DuplicateFilter restored = DuplicateFilter.Restore(filter.Settle(2, Now, DuplicateFilter.DefaultWindow));

        Assert.Equal(1, restored.Writers);
        Assert.True(restored.Admit(At(2, A, 1))); // A was forgotten
        Assert.False(restored.Admit(At(3, B, 1)));
    }

    [Fact]
    public void The_stored_state_keeps_every_writer_of_the_window_even_beyond_what_checkpoint_metadata_holds()
    {
        DuplicateFilter filter = DuplicateFilter.Restore(null);
        for (int i = 0; i < 1000; i++)
        {
            filter.Admit(At(i, Guid.NewGuid(), long.MaxValue >> 1, Now - TimeSpan.FromHours(1000 - i)));
        }

        string state = filter.Settle(1000, Now, TimeSpan.FromDays(365))!;

        Assert.Equal(1000, DuplicateFilter.Restore(state).Writers); // about 37 KiB: spilled to a blob by the checkpoint store
    }

    [Fact]
    public void The_stored_state_stays_within_its_limit_dropping_the_least_recently_used_writers()
    {
        DuplicateFilter filter = DuplicateFilter.Restore(null);
        var newest = Guid.NewGuid();
        for (int i = 0; i < 160_000; i++)
        {
            filter.Admit(At(i, i == 159_999 ? newest : Guid.NewGuid(), long.MaxValue >> 1, Now - TimeSpan.FromHours((160_000 - i) / 1000)));
        }

        string state = filter.Settle(160_000, Now, TimeSpan.FromDays(365))!;
        DuplicateFilter restored = DuplicateFilter.Restore(state);

        Assert.InRange(state.Length, 1, DuplicateFilter.MaxEncodedLength);
        Assert.InRange(restored.Writers, 100_000, 159_999);
        Assert.False(restored.Admit(At(160_000, newest, 1))); // the most recently used writer is still known
    }

    [Fact]
    public void A_damaged_state_is_refused()
    {
        Assert.Throws<FormatException>(() => DuplicateFilter.Restore(Convert.ToBase64String([1, 2, 3])));
        Assert.Throws<FormatException>(() => DuplicateFilter.Restore(Convert.ToBase64String([9])));
    }

    private static StoredEvent At(long offset, Guid? writer, long sequence, DateTimeOffset? time = null) =>
        new(0, offset, time ?? Now, new LogEvent($"e{offset}", "/t", "t")) { Mark = writer is { } w ? new WriterMark(w, sequence) : null };
}
