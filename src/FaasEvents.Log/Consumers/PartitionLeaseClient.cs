using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FaasEvents.Log.Storage;

namespace FaasEvents.Log.Consumers;

/// <summary>
/// Partition leases for one instance: acquire, renew, release, and take over once expired.
/// The lease is a blob lease on the partition's checkpoint blob (15-60 s, storage-enforced).
/// </summary>
public sealed class PartitionLeaseClient
{
    /// <summary>Shortest lease storage allows.</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromSeconds(15);

    /// <summary>Longest finite lease storage allows.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(60);

    private readonly LogStore store;

    internal PartitionLeaseClient(LogStore store, string ownerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ownerId);
        this.store = store;
        OwnerId = ownerId;
    }

    /// <summary>The instance this client acts for.</summary>
    public string OwnerId { get; }

    /// <summary>
    /// Acquires the partition's lease if it is free or expired; returns null when another instance holds it.
    /// </summary>
    public async Task<PartitionLease?> TryAcquireAsync(string group, string stream, int partition, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        CheckpointStore.Validate(group, stream, partition);
        if (duration < MinDuration || duration > MaxDuration)
        {
            throw new EventLogException(EventLogErrorReason.InvalidArgument, $"Lease duration must be between {MinDuration.TotalSeconds:0} and {MaxDuration.TotalSeconds:0} seconds, not {duration.TotalSeconds:0.###}.");
        }

        BlobClient blob = store.CheckpointBlob(group, stream, partition);
        string leaseId = Guid.NewGuid().ToString();
        BlobLeaseClient lease = blob.GetBlobLeaseClient(leaseId);
        DateTimeOffset requested;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                requested = store.TimeProvider.GetUtcNow(); // storage's clock starts at or after this: the local expiry is never late
                await lease.AcquireAsync(duration, cancellationToken: cancellationToken);
                break;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                return null; // LeaseAlreadyPresent: someone else owns it
            }
            catch (RequestFailedException ex) when (ex.Status == 404 && attempt < 3)
            {
                await store.EnsureContainerAsync(cancellationToken);
                try
                {
                    await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
                }
                catch (RequestFailedException ce) when (ce.Status is 409 or 412)
                {
                }
            }
        }

        // Record who owns it and for how long a lease lasts unrenewed, so listings show them; keep the checkpoint.
        BlobProperties props = (await blob.GetPropertiesAsync(new BlobRequestConditions { LeaseId = leaseId }, cancellationToken)).Value;
        var metadata = new Dictionary<string, string>(props.Metadata, StringComparer.OrdinalIgnoreCase)
        {
            [CheckpointStore.OwnerKey] = OwnerId,
            [CheckpointStore.LeaseSecondsKey] = ((int)duration.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await blob.SetMetadataAsync(metadata, new BlobRequestConditions { LeaseId = leaseId }, cancellationToken);
        return new PartitionLease(group, stream, partition, leaseId, OwnerId, duration, requested);
    }

    /// <summary>
    /// Takes a partition held by another instance (load balancing): breaks its lease, then acquires it. Returns null
    /// if a third instance got there first. The previous owner's renewals and checkpoints fail from then on.
    /// </summary>
    public async Task<PartitionLease?> TryStealAsync(string group, string stream, int partition, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        CheckpointStore.Validate(group, stream, partition);
        try
        {
            await store.CheckpointBlob(group, stream, partition).GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 404)
        {
            // Not leased any more (or gone): just try to acquire.
        }

        return await TryAcquireAsync(group, stream, partition, duration, cancellationToken);
    }

    /// <summary>
    /// Asks the instance holding the partition to hand it over (load balancing) without overlap: its lease is broken
    /// with a break period of <paramref name="duration"/>, so nobody can acquire it meanwhile, while the holder may
    /// still write (checkpoints) under it. The holder's next renewal fails; it finishes its in-flight invocation,
    /// checkpoints and releases, and a later <see cref="TryAcquireAsync"/> gets the partition from where it stopped.
    /// A holder that does not answer (crashed, paused) keeps it at most until the break period or its lease runs out.
    /// </summary>
    public async Task RequestHandoverAsync(string group, string stream, int partition, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        CheckpointStore.Validate(group, stream, partition);
        int seconds = (int)Math.Clamp(Math.Ceiling(duration.TotalSeconds), 0, MaxDuration.TotalSeconds);
        try
        {
            await store.CheckpointBlob(group, stream, partition).GetBlobLeaseClient().BreakAsync(TimeSpan.FromSeconds(seconds), cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 404)
        {
            // Not leased any more (or gone): a claim gets it.
        }
    }

    /// <summary>
    /// True when a renewal failed because another instance asked for the partition (<see cref="RequestHandoverAsync"/>:
    /// the lease is being broken and still valid for writes, so the holder can finish, checkpoint and release), as
    /// opposed to a lease that was taken or whose blob was deleted.
    /// </summary>
    public static bool IsHandoverRequest(EventLogException exception) =>
        exception is { Reason: EventLogErrorReason.LeaseLost, InnerException: RequestFailedException { ErrorCode: "LeaseIsBrokenAndCannotBeRenewed" or "LeaseIsBreakingAndCannotBeChanged" } };

    /// <summary>Renews a held lease; throws <see cref="EventLogErrorReason.LeaseLost"/> if another instance took it.</summary>
    public async Task<PartitionLease> RenewAsync(PartitionLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        try
        {
            DateTimeOffset requested = store.TimeProvider.GetUtcNow();
            await store.CheckpointBlob(lease.Group, lease.Stream, lease.Partition).GetBlobLeaseClient(lease.LeaseId).RenewAsync(cancellationToken: cancellationToken);
            return lease with { RenewedAt = requested };
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404)
        {
            throw new EventLogException(EventLogErrorReason.LeaseLost, $"Lease on group '{lease.Group}' stream '{lease.Stream}' partition {lease.Partition} was lost: {ex.ErrorCode}.", ex);
        }
    }

    /// <summary>Releases a lease so another instance can take the partition at once. A lost lease is ignored.</summary>
    public async Task ReleaseAsync(PartitionLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        try
        {
            await store.CheckpointBlob(lease.Group, lease.Stream, lease.Partition).GetBlobLeaseClient(lease.LeaseId).ReleaseAsync(cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404)
        {
            // Already someone else's (or gone): nothing to release.
        }
    }

    /// <summary>Ownership and checkpoints of every partition of a group on a stream, in one listing.</summary>
    public async Task<IReadOnlyList<PartitionOwnership>> ListOwnershipAsync(string group, string stream, CancellationToken cancellationToken = default)
    {
        CheckpointStore.Validate(group, stream, 0);
        var result = new List<PartitionOwnership>();
        try
        {
            await foreach (BlobItem item in store.Container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, StoragePaths.GroupStreamPrefix(group, stream), cancellationToken))
            {
                string last = item.Name[(item.Name.LastIndexOf('/') + 1)..];
                if (int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int partition))
                {
                    bool leased = item.Properties.LeaseState == LeaseState.Leased && item.Properties.LeaseStatus == LeaseStatus.Locked;
                    item.Metadata.TryGetValue(CheckpointStore.OwnerKey, out string? owner);
                    result.Add(new PartitionOwnership(partition, owner, leased, CheckpointStore.ParseOffset(item.Metadata)));
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        result.Sort((a, b) => a.Partition.CompareTo(b.Partition));
        return result;
    }
}
