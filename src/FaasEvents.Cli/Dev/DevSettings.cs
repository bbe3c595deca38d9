namespace FaasEvents.Cli.Dev;

/// <summary>Settings of <c>faas dev</c>.</summary>
internal sealed record DevSettings(
    int StoragePort,
    bool InMemory,
    int HttpPort,
    int GrpcPort,
    long LagThreshold,
    int? MaxReplicas,
    TimeSpan PollingInterval,
    TimeSpan Cooldown,
    string? PingSchedule,
    string? ServerDll,
    string? AppDll,
    string Container,
    string? Functions = null,
    bool Push = true,
    string? Project = null,
    bool Logs = false);
