namespace FaasEvents.Functions;

internal enum ElementKind
{
    CloudEvent,
    LogEvent,
    StoredEvent,
    String,
    Bytes,
    BinaryData,
    Poco,
}
