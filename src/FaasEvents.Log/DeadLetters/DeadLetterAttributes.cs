namespace FaasEvents.Log.DeadLetters;

/// <summary>
/// The CloudEvents extension attributes a dead letter carries (written by the function runtime, read by
/// <see cref="DeadLettersClient"/>), and the default dead-letter stream name.
/// </summary>
public static class DeadLetterAttributes
{
    /// <summary>The last error's message.</summary>
    public const string Error = "dlqerror";

    /// <summary>How many tries the event had.</summary>
    public const string Attempts = "dlqattempts";

    /// <summary>The function that failed it.</summary>
    public const string Function = "dlqfunction";

    /// <summary>Its consumer group.</summary>
    public const string Group = "dlqgroup";

    /// <summary>The stream the event was read from.</summary>
    public const string Stream = "dlqstream";

    /// <summary>Its partition there.</summary>
    public const string Partition = "dlqpartition";

    /// <summary>Its offset there.</summary>
    public const string Offset = "dlqoffset";

    /// <summary>When it was dead-lettered.</summary>
    public const string Time = "dlqtime";

    /// <summary>
    /// For a queue-consumed event: its earlier deliveries that did not end in acceptance, as a JSON array of
    /// <c>{"owner","at","outcome"}</c> (oldest first; an outcome is the handler's error or "lock expired").
    /// </summary>
    public const string History = "dlqhistory";

    /// <summary>What the copy left out to fit the size limit (<c>data</c> or <c>data,attributes</c>).</summary>
    public const string Omitted = "dlqomitted";

    /// <summary>The size of the data left out.</summary>
    public const string DataSize = "dlqdatasize";

    /// <summary>On a replayed event: the dead letter it came from (<c>{dead-letter stream}/{partition}/{offset}</c>).</summary>
    public const string ReplayOf = "replayof";

    /// <summary>The default dead-letter stream of a group on a stream (host.json <c>deadLetter.stream</c> default).</summary>
    public static string DefaultStream(string stream, string group) => $"{stream}.{group}.deadletter";
}
