using FaasEvents.Log.Consumers;

namespace FaasEvents.Server.Scaling;

/// <summary>
/// How long a stream's lag reading may be reused: the normal cache period while the stream moves, doubling with each
/// storage read that finds its ends unchanged, up to the idle maximum; any change, or an append this server made, brings
/// it back at once. No back-off when either period is zero or the maximum is not above the normal period.
/// </summary>
internal sealed class StreamPace
{
    private readonly Lock gate = new();
    private readonly TimeSpan normal;
    private readonly TimeSpan idleMax;
    private TimeSpan reuse;
    private long[]? lastEnds;

    /// <summary>A pace between <paramref name="normal"/> and <paramref name="idleMax"/>.</summary>
    public StreamPace(TimeSpan normal, TimeSpan idleMax)
    {
        this.normal = normal;
        this.idleMax = idleMax;
        reuse = normal;
    }

    /// <summary>How long a reading of the stream may be reused now.</summary>
    public TimeSpan Reuse
    {
        get
        {
            lock (gate)
            {
                return reuse;
            }
        }
    }

    /// <summary>A storage read found these ends: unchanged ones stretch the reuse period, changed ones reset it.</summary>
    public void Observed(IReadOnlyList<PartitionInfo> parts)
    {
        long[] ends = [.. parts.Select(p => p.EndOffset)];
        lock (gate)
        {
            bool unchanged = lastEnds is not null && ends.AsSpan().SequenceEqual(lastEnds);
            reuse = unchanged && normal > TimeSpan.Zero && idleMax > normal ? TimeSpan.FromTicks(Math.Min(reuse.Ticks * 2, idleMax.Ticks)) : normal;
            lastEnds = ends;
        }
    }

    /// <summary>This server appended to the stream: read it at the normal pace again.</summary>
    public void Moved()
    {
        lock (gate)
        {
            reuse = normal;
        }
    }
}
