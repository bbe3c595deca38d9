namespace FaasEvents.Functions;

/// <summary>What the method returns: whether to await it, and the value type (null for none).</summary>
internal sealed record ReturnShape(AsyncKind Async, Type? ValueType);
