using FaasEvents.Log.Events;

namespace FaasEvents.Log.Format;

/// <summary>An event encoded once, when it is handed to the producer, with its produce timestamp and, if sequenced, its writer mark.</summary>
internal readonly record struct EncodedRecord(long Timestamp, ReadOnlyMemory<byte> Body, WriterMark? Mark = null);
