using FaasEvents.Log.Events;

namespace FaasEvents.Functions.Storage;

/// <summary>Where a function's writes go: its outputs, a materializer's changelog and dead letters.</summary>
internal interface IOutputSink : IAsyncDisposable
{
    /// <summary>
    /// Appends <paramref name="events"/> to <paramref name="stream"/> of the storage named by <paramref name="connection"/>
    /// (null: the function's own); completes when they are durable. With <paramref name="marks"/> (one per event, one
    /// writer) they are sequenced writes: readers deliver each (writer, sequence) once, however often it is appended.
    /// </summary>
    Task AppendAsync(string? connection, string stream, IReadOnlyList<LogEvent> events, IReadOnlyList<WriterMark>? marks, CancellationToken cancellationToken);

    /// <summary>
    /// Throws what appending <paramref name="events"/> to <paramref name="stream"/> would be refused with by the stream's
    /// contract (schema, owner), without appending; the handler's outputs are checked when it returns.
    /// </summary>
    Task CheckAsync(string? connection, string stream, IReadOnlyList<LogEvent> events, CancellationToken cancellationToken);

    /// <summary>Creates a one-partition stream of the function's own storage unless it exists (dead letters).</summary>
    Task EnsureStreamAsync(string stream, CancellationToken cancellationToken);
}
