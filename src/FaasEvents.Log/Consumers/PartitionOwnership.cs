namespace FaasEvents.Log.Consumers;

/// <summary>Who owns a partition, as seen in a listing.</summary>
/// <param name="Partition">Partition.</param>
/// <param name="OwnerId">Last owner written by an acquirer; meaningful only while <paramref name="IsLeased"/>.</param>
/// <param name="IsLeased">True while a lease is held and not expired.</param>
/// <param name="NextOffset">The group's checkpoint, if any.</param>
public sealed record PartitionOwnership(int Partition, string? OwnerId, bool IsLeased, long? NextOffset);
