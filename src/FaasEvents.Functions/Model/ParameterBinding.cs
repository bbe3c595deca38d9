namespace FaasEvents.Functions;

internal sealed record ParameterBinding(ParameterKind Kind, Type Type, string Name);
