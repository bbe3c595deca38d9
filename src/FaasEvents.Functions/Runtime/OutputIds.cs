using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Ids for the outputs of one invocation: the input partition's writer id and a sequence from (input offset, index among
/// that input's outputs), so a re-run of the input emits the same ids and marks (<see cref="WriterIdentity"/>). Every
/// output of an input takes an index, also those whose id the handler set, so the indexes do not depend on which ids
/// were set. <see cref="Marks"/> holds one mark per output taken, in the order they were taken.
/// </summary>
internal sealed class OutputIds(Guid writer)
{
    private readonly Dictionary<long, int> next = [];

    /// <summary>The writer mark of every output so far, in order (parallel to the invocation's outputs).</summary>
    public List<WriterMark> Marks { get; } = [];

    /// <summary>Takes the next output index of the input at <paramref name="inputOffset"/>; returns that output's id.</summary>
    public string Next(long inputOffset)
    {
        int index = next.GetValueOrDefault(inputOffset);
        next[inputOffset] = index + 1;
        long sequence = WriterIdentity.Sequence(inputOffset, index);
        Marks.Add(new WriterMark(writer, sequence));
        return WriterIdentity.EventId(writer, sequence);
    }
}
