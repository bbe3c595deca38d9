namespace FaasEvents.Functions.Storage;

/// <summary>One partition of a stream consumed as a queue by a group, with the window its state is kept in.</summary>
internal sealed record QueueKey(string Group, string Stream, int Partition, int Window);
