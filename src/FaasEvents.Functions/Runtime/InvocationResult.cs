using FaasEvents.Log.Events;

namespace FaasEvents.Functions.Runtime;

/// <summary>What an invocation produced.</summary>
/// <param name="Outputs">Events for the output stream.</param>
/// <param name="Marks">Each output's writer mark (same order): how readers recognise a re-run's copy.</param>
/// <param name="State">A materializer's new state for the key (null deletes it).</param>
internal readonly record struct InvocationResult(IReadOnlyList<LogEvent> Outputs, IReadOnlyList<WriterMark> Marks, object? State);
