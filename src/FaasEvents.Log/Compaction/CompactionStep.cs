namespace FaasEvents.Log.Compaction;

/// <summary>Steps of a segment rewrite, in order.</summary>
internal enum CompactionStep
{
    /// <summary>Latest offset per key found; nothing written yet.</summary>
    Scanned,
    /// <summary>The new segment's batches are uploaded as uncommitted blocks (invisible).</summary>
    Staged,
    /// <summary>The new segment is committed in one request: from here it supersedes the old ones.</summary>
    Committed,
    /// <summary>One replaced segment was deleted.</summary>
    Deleted,
}
