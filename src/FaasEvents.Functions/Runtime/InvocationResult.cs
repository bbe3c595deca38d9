using FaasEvents.Log.Events;

namespace FaasEvents.Functions.Runtime;

/// <summary>What an invocation produced.</summary>
/// <param name="Outputs">Events for the output stream.</param>
/// <param name="State">A materializer's new state for the key (null deletes it).</param>
internal readonly record struct InvocationResult(IReadOnlyList<LogEvent> Outputs, object? State);
