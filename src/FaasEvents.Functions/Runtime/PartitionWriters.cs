using FaasEvents.Log.Producer;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// The writer ids a function writes under for one input partition (docs/storage-format.md, "Exactly-once writes"): the
/// same whichever instance owns the partition, new after a reset (<paramref name="Generation"/>).
/// </summary>
/// <param name="Outputs">Outputs, of any output stream.</param>
/// <param name="DeadLetters">Dead letters.</param>
/// <param name="Changelog">A materializer's changelog.</param>
/// <param name="Generation">The group's writer generation in the partition.</param>
internal sealed record PartitionWriters(Guid Outputs, Guid DeadLetters, Guid Changelog, long Generation)
{
    public static PartitionWriters For(FunctionDefinition function, int partition, long generation) => new(
        WriterIdentity.For("out", function.ConsumerGroup, function.Stream, partition, generation),
        WriterIdentity.For("dlq", function.ConsumerGroup, function.Stream, partition, generation),
        WriterIdentity.For("changelog", function.ConsumerGroup, function.Stream, partition, generation),
        generation);
}
