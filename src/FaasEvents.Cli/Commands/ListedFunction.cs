namespace FaasEvents.Cli.Commands;

/// <summary>A function as a function app's <c>--list</c> describes it.</summary>
internal sealed record ListedFunction(string Name, string Stream, string ConsumerGroup, string Kind, string? OutputStream);
