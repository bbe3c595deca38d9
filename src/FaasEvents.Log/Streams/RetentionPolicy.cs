using System.Globalization;
using System.Text.RegularExpressions;

namespace FaasEvents.Log.Streams;

/// <summary>How long a partition keeps whole segments. Null limits mean "keep forever" (the default).</summary>
/// <param name="MaxAge">Delete a segment once its newest event is older than this.</param>
/// <param name="MaxBytes">Delete the oldest segments while a partition holds more than this many bytes.</param>
public sealed partial record RetentionPolicy(TimeSpan? MaxAge = null, long? MaxBytes = null)
{
    /// <summary>Keep everything forever.</summary>
    public static RetentionPolicy Infinite { get; } = new();

    /// <summary>True when no limit is set.</summary>
    public bool IsInfinite => MaxAge is null && MaxBytes is null;

    /// <summary>
    /// Parses <c>infinite</c>, a duration (<c>90s</c>, <c>30m</c>, <c>12h</c>, <c>7d</c>), a size
    /// (<c>500MB</c>, <c>10GiB</c>, <c>1TB</c>) or both separated by a comma (<c>7d,10GiB</c>).
    /// </summary>
    public static RetentionPolicy Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Trim().Equals("infinite", StringComparison.OrdinalIgnoreCase))
        {
            return Infinite;
        }

        TimeSpan? age = null;
        long? bytes = null;
        foreach (string raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            Match m = RetentionPart().Match(raw);
            if (!m.Success)
            {
                throw Invalid(text, $"'{raw}' is neither a duration (e.g. 7d, 12h, 30m, 90s) nor a size (e.g. 500MB, 10GiB)");
            }

            long n = long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
            if (n <= 0)
            {
                throw Invalid(text, $"'{raw}' must be positive");
            }

            string unit = m.Groups["u"].Value.ToUpperInvariant();
            switch (unit)
            {
                case "S": age = TimeSpan.FromSeconds(n); break;
                case "M": age = TimeSpan.FromMinutes(n); break;
                case "H": age = TimeSpan.FromHours(n); break;
                case "D": age = TimeSpan.FromDays(n); break;
                default:
                    long scale = unit switch
                    {
                        "B" => 1,
                        "KB" => 1000, "MB" => 1000 * 1000, "GB" => 1000L * 1000 * 1000, "TB" => 1000L * 1000 * 1000 * 1000,
                        "KIB" => 1024, "MIB" => 1024 * 1024, "GIB" => 1024L * 1024 * 1024, "TIB" => 1024L * 1024 * 1024 * 1024,
                        _ => throw Invalid(text, $"unknown unit '{m.Groups["u"].Value}'"),
                    };
                    bytes = checked(n * scale);
                    break;
            }
        }

        if (age is null && bytes is null)
        {
            throw Invalid(text, "nothing to parse");
        }

        return new RetentionPolicy(age, bytes);
    }

    /// <summary>Formats as <see cref="Parse"/> accepts it.</summary>
    public override string ToString()
    {
        if (IsInfinite)
        {
            return "infinite";
        }

        var parts = new List<string>(2);
        if (MaxAge is { } a)
        {
            parts.Add(a.TotalSeconds % 86400 == 0 ? $"{a.TotalDays:0}d"
                : a.TotalSeconds % 3600 == 0 ? $"{a.TotalHours:0}h"
                : a.TotalSeconds % 60 == 0 ? $"{a.TotalMinutes:0}m"
                : $"{a.TotalSeconds:0}s");
        }

        if (MaxBytes is { } b)
        {
            parts.Add(b % (1L << 30) == 0 ? $"{b >> 30}GiB" : b % (1 << 20) == 0 ? $"{b >> 20}MiB" : $"{b}B");
        }

        return string.Join(',', parts);
    }

    private static EventLogException Invalid(string text, string why) =>
        new(EventLogErrorReason.InvalidArgument, $"Invalid retention '{text}': {why}. Use 'infinite', a duration, a size, or 'DURATION,SIZE'.");

    [GeneratedRegex(@"^(?<n>\d{1,15})\s*(?<u>[smhdSMHD]|[KkMmGgTt]i?[Bb]|[Bb])$")]
    private static partial Regex RetentionPart();
}
