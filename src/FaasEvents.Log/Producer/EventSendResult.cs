using FaasEvents.Log.Events;

namespace FaasEvents.Log.Producer;

/// <summary>The outcome of one event of <see cref="EventProducerClient.SendEachAsync"/>.</summary>
/// <param name="Position">Where it was written; null when it was not (or may not have been).</param>
/// <param name="Error">Why it failed; null when it was written.</param>
public sealed record EventSendResult(EventPosition? Position, Exception? Error)
{
    /// <summary>True when the event is in the log at <see cref="Position"/>.</summary>
    public bool Written => Position is not null;

    /// <summary>
    /// True when the event failed but an attempt may still have landed (it is in the log once, or not at all): sending
    /// it again may write it twice. False when it was written, or certainly was not.
    /// </summary>
    public bool Unknown => Error is EventLogException { MayHaveBeenWritten: true };
}
