namespace FaasEvents.Log.Events;

/// <summary>Where an appended event landed.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The offset assigned to the event.</param>
public readonly record struct EventPosition(int Partition, long Offset);
