namespace FaasEvents.Functions;

/// <summary>What happens to an event whose handler still fails after the last retry.</summary>
public enum DeadLetterMode
{
    /// <summary>Append it to the dead-letter stream with the error, and move on.</summary>
    DeadLetter,
    /// <summary>Stop the partition (it keeps its lease; lag grows; health reports it) until the app restarts.</summary>
    Stop,
}
