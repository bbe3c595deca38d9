namespace FaasEvents.Functions;

/// <summary>How a function's consumer group consumes its stream.</summary>
public enum Consumption
{
    /// <summary>
    /// As an event stream (the default): each partition is owned by one instance at a time and its events are handled in
    /// offset order; a failing event holds its partition until it succeeds or is dead-lettered.
    /// </summary>
    Stream,

    /// <summary>
    /// As a queue: any number of instances take events from any partition, each event under a lock, and acknowledge them
    /// one by one (accepted, released for a later redelivery, or dead-lettered); order is not kept. Scales past the
    /// partition count (docs/functions.md, "Queue consumption").
    /// </summary>
    Queue,
}
