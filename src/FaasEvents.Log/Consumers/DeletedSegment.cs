namespace FaasEvents.Log.Consumers;

/// <summary>A segment removed by retention.</summary>
/// <param name="Partition">Partition.</param>
/// <param name="BaseOffset">First offset it held.</param>
/// <param name="NextOffset">First offset of the segment after it (now the earliest retained, if nothing older remains).</param>
/// <param name="Bytes">Its size.</param>
public sealed record DeletedSegment(int Partition, long BaseOffset, long NextOffset, long Bytes);
