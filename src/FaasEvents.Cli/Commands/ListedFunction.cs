namespace FaasEvents.Cli.Commands;

/// <summary>A function as a function app's <c>--list</c> describes it.</summary>
internal sealed record ListedFunction(string Name, string Stream, string ConsumerGroup, string Kind, string? OutputStream, string? Consumption = null)
{
    /// <summary>True when the function consumes its stream as a queue.</summary>
    public bool IsQueue => Consumption == "queue";
}
