namespace FaasEvents.Functions.Runtime;

/// <summary>A runtime write that keeps failing on a partition: what it is, since when, how many tries, the last error.</summary>
internal sealed record PartitionStall(string Write, DateTimeOffset Since, int FailedTries, string Error);
