using System.Globalization;

namespace FaasEvents.Log.Groups;

/// <summary>Where <see cref="ConsumerGroupsClient.ResetAsync"/> moves a group: the same rule applied to each partition.</summary>
public sealed record GroupResetTarget
{
    private GroupResetTarget(GroupResetKind kind, long value, DateTimeOffset time)
    {
        Kind = kind;
        Value = value;
        Time = time;
    }

    /// <summary>What the target is.</summary>
    public GroupResetKind Kind { get; }

    /// <summary>The offset (<see cref="GroupResetKind.Offset"/>) or the shift (<see cref="GroupResetKind.Shift"/>).</summary>
    public long Value { get; }

    /// <summary>The time (<see cref="GroupResetKind.Time"/>): the first event written at or after it.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The oldest retained event: everything retained is processed again.</summary>
    public static GroupResetTarget Earliest { get; } = new(GroupResetKind.Earliest, 0, default);

    /// <summary>The end: everything not yet processed is skipped.</summary>
    public static GroupResetTarget Latest { get; } = new(GroupResetKind.Latest, 0, default);

    /// <summary>An offset (kept within each partition's retained range).</summary>
    public static GroupResetTarget ToOffset(long offset) =>
        offset >= 0 ? new(GroupResetKind.Offset, offset, default) : throw new EventLogException(EventLogErrorReason.InvalidArgument, $"--to-offset {offset}: an offset is 0 or more.");

    /// <summary>The first event written at or after <paramref name="time"/> (the end when none is).</summary>
    public static GroupResetTarget ToTime(DateTimeOffset time) => new(GroupResetKind.Time, 0, time);

    /// <summary>The current checkpoint moved by <paramref name="by"/> events (negative: back), kept within the retained range.</summary>
    public static GroupResetTarget ShiftBy(long by) => new(GroupResetKind.Shift, by, default);

    /// <summary>
    /// The one target chosen among the options a command or request offers; none or several fail naming the choices
    /// (as the CLI spells them).
    /// </summary>
    public static GroupResetTarget Choose(bool earliest, bool latest, long? offset, string? time, long? shift)
    {
        var chosen = new List<GroupResetTarget>();
        if (earliest)
        {
            chosen.Add(Earliest);
        }

        if (latest)
        {
            chosen.Add(Latest);
        }

        if (offset is { } o)
        {
            chosen.Add(ToOffset(o));
        }

        if (time is not null)
        {
            chosen.Add(ParseTime(time));
        }

        if (shift is { } by)
        {
            chosen.Add(ShiftBy(by));
        }

        return chosen.Count == 1
            ? chosen[0]
            : throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Give exactly one of --to-earliest, --to-latest, --to-offset N, --to-time T, --shift-by N ({(chosen.Count == 0 ? "none given" : chosen.Count + " given")}).");
    }

    /// <summary>Reads an ISO 8601 time, naming the option and an example when it is not one.</summary>
    public static GroupResetTarget ParseTime(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset time)
            ? ToTime(time)
            : throw new EventLogException(EventLogErrorReason.InvalidArgument, $"--to-time '{text}' is not a time: use ISO 8601, e.g. 2026-12-06T14:00:00Z.");

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        GroupResetKind.Offset => $"offset {Value}",
        GroupResetKind.Time => $"time {Time:O}",
        GroupResetKind.Shift => $"shift by {Value}",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
