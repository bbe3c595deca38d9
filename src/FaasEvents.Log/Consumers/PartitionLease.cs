namespace FaasEvents.Log.Consumers;

/// <summary>A held partition lease.</summary>
/// <param name="Group">Consumer group.</param>
/// <param name="Stream">Stream.</param>
/// <param name="Partition">Partition.</param>
/// <param name="LeaseId">The storage lease id (also fences checkpoint writes).</param>
/// <param name="OwnerId">The instance holding it.</param>
/// <param name="Duration">Lease duration.</param>
/// <param name="RenewedAt">When the last successful acquire or renew was sent, by the client's clock (so the local expiry is never later than storage's).</param>
public sealed record PartitionLease(string Group, string Stream, int Partition, string LeaseId, string OwnerId, TimeSpan Duration, DateTimeOffset RenewedAt)
{
    /// <summary>When the lease runs out unless renewed (by the client's clock; storage decides for real).</summary>
    public DateTimeOffset ExpiresAt => RenewedAt + Duration;
}
