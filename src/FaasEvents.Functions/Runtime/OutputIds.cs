using FaasEvents.Log.Producer;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Ids for the outputs of one invocation: the input partition's writer id and a sequence from (input offset, index among
/// that input's outputs), so a re-run of the input emits the same ids (<see cref="WriterIdentity"/>). Every output of an
/// input takes an index, also those whose id the handler set, so the indexes do not depend on which ids were set.
/// </summary>
internal sealed class OutputIds(Guid writer)
{
    private readonly Dictionary<long, int> next = [];

    /// <summary>The id of the next output of the input at <paramref name="inputOffset"/>.</summary>
    public string Next(long inputOffset)
    {
        int index = next.GetValueOrDefault(inputOffset);
        next[inputOffset] = index + 1;
        return WriterIdentity.EventId(writer, WriterIdentity.Sequence(inputOffset, index));
    }
}
