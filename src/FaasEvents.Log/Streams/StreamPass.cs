namespace FaasEvents.Log.Streams;

/// <summary>
/// The last recorded retention or compaction pass over a stream (whoever ran it: the server's schedule or
/// <c>faas streams retention|compact</c>), as <c>faas streams describe</c> shows it.
/// </summary>
/// <param name="Kind"><see cref="Retention"/> or <see cref="Compaction"/>.</param>
/// <param name="At">When the pass ended.</param>
/// <param name="Segments">Segments deleted (retention) or rewritten (compaction).</param>
/// <param name="Events">Events removed: whole segments' events (retention), superseded events and tombstones (compaction).</param>
/// <param name="Bytes">Bytes freed.</param>
/// <param name="Error">Why the pass failed (its first line), or null when it completed.</param>
public sealed record StreamPass(string Kind, DateTimeOffset At, long Segments, long Events, long Bytes, string? Error)
{
    /// <summary>The kind of a retention pass.</summary>
    public const string Retention = "retention";

    /// <summary>The kind of a compaction pass.</summary>
    public const string Compaction = "compaction";
}
