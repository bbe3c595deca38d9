namespace FaasEvents.Functions.Runtime;

/// <summary>What the app was built with.</summary>
internal sealed record FunctionsAppSettings(IReadOnlyList<FunctionDefinition> Functions, EventLogHostOptions Options, IReadOnlyList<Type> Middleware, string InstanceId);
