using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FaasEvents.Log.Producer;

/// <summary>
/// Who wrote an event and because of which input (docs/storage-format.md, "Exactly-once writes"): a writer id derived
/// from (role, consumer group, input stream, input partition), the same whichever instance owns the partition, and a
/// sequence derived from the input offset and the output's index. A re-run of an input writes the same identities.
/// </summary>
public static class WriterIdentity
{
    /// <summary>Most outputs one input event may have (the index's 16 bits).</summary>
    public const int MaxOutputsPerInput = 1 << 16;

    /// <summary>
    /// The writer id of <paramref name="role"/> (e.g. <c>out</c>, <c>dlq</c>) for a group's input partition: a name-based
    /// GUID (SHA-256, version 8) of <c>{role}|{group}|{stream}|{partition}</c>, with <c>|{generation}</c> appended after a
    /// reset (<see cref="Consumers.Checkpoint.Generation"/> above 0).
    /// </summary>
    public static Guid For(string role, string group, string stream, int partition, long generation = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(role);
        ArgumentOutOfRangeException.ThrowIfNegative(generation);
        string name = generation == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{role}|{group}|{stream}|{partition}")
            : string.Create(CultureInfo.InvariantCulture, $"{role}|{group}|{stream}|{partition}|{generation}");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8: custom
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>The sequence of output <paramref name="index"/> of the input at <paramref name="inputOffset"/>: <c>(offset &lt;&lt; 16) | index</c>.</summary>
    public static long Sequence(long inputOffset, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputOffset);
        if (index is < 0 or >= MaxOutputsPerInput)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"An input event may have at most {MaxOutputsPerInput:N0} outputs; the event at offset {inputOffset} has more. Split the work over several events.");
        }

        return (inputOffset << 16) | (long)index;
    }

    /// <summary>The CloudEvents id of the event a writer writes with <paramref name="sequence"/>: <c>{writer:N}-{sequence:x}</c>.</summary>
    public static string EventId(Guid writer, long sequence) => string.Create(CultureInfo.InvariantCulture, $"{writer:N}-{sequence:x}");
}
