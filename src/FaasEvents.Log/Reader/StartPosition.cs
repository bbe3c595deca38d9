namespace FaasEvents.Log.Reader;

/// <summary>Where a read starts.</summary>
public readonly record struct StartPosition
{
    private StartPosition(StartKind kind, long offset, DateTimeOffset time)
    {
        Kind = kind;
        Offset = offset;
        Time = time;
    }

    /// <summary>The first retained event.</summary>
    public static StartPosition Earliest { get; } = new(StartKind.Earliest, 0, default);

    /// <summary>The end: only events appended from now on.</summary>
    public static StartPosition Latest { get; } = new(StartKind.Latest, 0, default);

    /// <summary>What kind of position this is.</summary>
    public StartKind Kind { get; }

    /// <summary>The offset, for <see cref="StartKind.Offset"/>.</summary>
    public long Offset { get; }

    /// <summary>The time, for <see cref="StartKind.Time"/>.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>A given offset (the end offset is allowed: it waits for the next event).</summary>
    public static StartPosition FromOffset(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return new(StartKind.Offset, offset, default);
    }

    /// <summary>The first event produced at or after <paramref name="time"/>.</summary>
    public static StartPosition FromTime(DateTimeOffset time) => new(StartKind.Time, 0, time);

    /// <summary>Parses <c>earliest</c>, <c>latest</c>, an offset, or an ISO 8601 timestamp.</summary>
    public static StartPosition Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Equals("earliest", StringComparison.OrdinalIgnoreCase))
        {
            return Earliest;
        }

        if (text.Equals("latest", StringComparison.OrdinalIgnoreCase))
        {
            return Latest;
        }

        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long offset))
        {
            return FromOffset(offset);
        }

        if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out DateTimeOffset time))
        {
            return FromTime(time);
        }

        throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Invalid start position '{text}': use earliest, latest, an offset (0, 1, ...) or an ISO 8601 time.");
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        StartKind.Earliest => "earliest",
        StartKind.Latest => "latest",
        StartKind.Offset => Offset.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => Time.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    };
}
