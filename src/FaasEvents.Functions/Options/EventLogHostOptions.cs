using System.Globalization;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Streams;

namespace FaasEvents.Functions;

/// <summary><c>extensions.eventLog</c> of host.json: how the runtime consumes streams.</summary>
public sealed class EventLogHostOptions
{
    /// <summary>Most events per batch invocation. <value>Default: 100.</value></summary>
    public int MaxBatchSize { get; set; } = 100;

    /// <summary>Checkpoint after this many successful invocations (or at shutdown / partition release). <value>Default: 1.</value></summary>
    public int BatchCheckpointFrequency { get; set; } = 1;

    /// <summary>Where a group without a checkpoint starts. <value>Default: earliest.</value></summary>
    public InitialOffset InitialOffset { get; set; } = InitialOffset.Earliest;

    /// <summary>Most partitions running handlers at once in this instance. <value>Default: 8.</value></summary>
    public int MaxConcurrentPartitions { get; set; } = 8;

    /// <summary>Partition lease duration, 15-60 s. <value>Default: 20 s.</value></summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often an instance renews, claims and balances partitions. <value>Default: 5 s.</value></summary>
    public TimeSpan LoadBalancingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How soon a partition that has just handled events looks for new ones. <value>Default: 100 ms.</value></summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Longest wait between looks of a partition that keeps finding nothing: each empty look doubles the wait from
    /// <see cref="PollInterval"/> up to this (an idle instance's cost). Appends made in this process, and those the
    /// server announces (<c>FAAS_SERVER_URL</c>), wake the partition at once. <value>Default: 1 s.</value>
    /// </summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A materializer commits its table's changes (and offset) at most this long after handling events, 100 ms-5 min. <value>Default: 5 s.</value></summary>
    public TimeSpan StateCommitInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Create missing trigger and output streams at start-up. <value>Default: false (a missing stream stops start-up).</value></summary>
    public bool CreateStreamsIfMissing { get; set; }

    /// <summary>Partitions of streams created by <see cref="CreateStreamsIfMissing"/>. <value>Default: 4.</value></summary>
    public int DefaultPartitions { get; set; } = 4;

    /// <summary>Retry policy for functions without a retry attribute. <value>Default: fixedDelay, 3 retries, 1 s.</value></summary>
    public RetrySettings Retry { get; set; } = RetrySettings.Default;

    /// <summary>After the last retry. <value>Default: deadLetter.</value></summary>
    public DeadLetterMode DeadLetterMode { get; set; } = DeadLetterMode.DeadLetter;

    /// <summary>Dead-letter stream; <c>{stream}</c> and <c>{group}</c> are replaced. <value>Default: <c>{stream}.{group}.deadletter</c>.</value></summary>
    public string DeadLetterStream { get; set; } = "{stream}.{group}.deadletter";

    /// <summary>How functions with queue consumption take and acknowledge events (<c>queue</c>).</summary>
    public QueueOptions Queue { get; set; } = new();

    /// <summary>The dead-letter stream of a function.</summary>
    public string DeadLetterStreamFor(FunctionDefinition function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return DeadLetterStream.Replace("{stream}", function.Stream, StringComparison.Ordinal).Replace("{group}", function.ConsumerGroup, StringComparison.Ordinal);
    }

    /// <summary>Shortest and longest <see cref="LoadBalancingInterval"/>.</summary>
    internal static readonly (TimeSpan Min, TimeSpan Max) LoadBalancingIntervalRange = (TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));

    /// <summary>Shortest and longest <see cref="PollInterval"/>.</summary>
    internal static readonly (TimeSpan Min, TimeSpan Max) PollIntervalRange = (TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1));

    /// <summary>Shortest and longest <see cref="StateCommitInterval"/>.</summary>
    internal static readonly (TimeSpan Min, TimeSpan Max) StateCommitIntervalRange = (TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));

    /// <summary>
    /// Every problem with these options, one line each, named by their host.json key (empty when they are valid).
    /// Checked at start-up whether the options came from host.json or were set in code.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Int(string key, int value, int min, int max)
        {
            if (value < min || value > max)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{key}: must be an integer between {min} and {max} (was {value})"));
            }
        }

        void Span(string key, TimeSpan value, (TimeSpan Min, TimeSpan Max) range)
        {
            if (value < range.Min || value > range.Max)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{key}: '{value}' must be a time span between {range.Min} and {range.Max} (write e.g. 00:00:20)"));
            }
        }

        Int("maxBatchSize", MaxBatchSize, 1, 10_000);
        Int("batchCheckpointFrequency", BatchCheckpointFrequency, 1, 10_000);
        Int("maxConcurrentPartitions", MaxConcurrentPartitions, 1, 1024);
        Int("defaultPartitions", DefaultPartitions, 1, StreamDefinition.MaxPartitions);
        Span("leaseDuration", LeaseDuration, (PartitionLeaseClient.MinDuration, PartitionLeaseClient.MaxDuration));
        Span("loadBalancingInterval", LoadBalancingInterval, LoadBalancingIntervalRange);
        Span("pollInterval", PollInterval, PollIntervalRange);
        Span("maxPollInterval", MaxPollInterval, PollIntervalRange);
        if (MaxPollInterval < PollInterval)
        {
            problems.Add($"maxPollInterval ({MaxPollInterval}) must be at least pollInterval ({PollInterval})");
        }
        Span("stateCommitInterval", StateCommitInterval, StateCommitIntervalRange);
        if (LoadBalancingInterval >= LeaseDuration)
        {
            problems.Add($"loadBalancingInterval ({LoadBalancingInterval}) must be shorter than leaseDuration ({LeaseDuration}), or leases expire between renewals");
        }

        if (Retry is null)
        {
            problems.Add("retry: must be set (e.g. fixedDelay with maxRetryCount and delayInterval)");
        }
        else
        {
            try
            {
                RetrySettings.Validate(Retry, "retry");
            }
            catch (FormatException ex)
            {
                problems.Add(ex.Message);
            }
        }

        try
        {
            StreamDefinition.ValidateName(DeadLetterStream.Replace("{stream}", "s", StringComparison.Ordinal).Replace("{group}", "g", StringComparison.Ordinal), "stream");
        }
        catch (EventLogException ex)
        {
            problems.Add($"deadLetter.stream: {ex.Message}");
        }

        problems.AddRange(Queue?.Validate() ?? ["queue: must be set"]);
        return problems;
    }

    /// <summary>The effective options, one line, for the start-up log.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"maxBatchSize={MaxBatchSize}, batchCheckpointFrequency={BatchCheckpointFrequency}, initialOffset={InitialOffset.ToString().ToLowerInvariant()}, maxConcurrentPartitions={MaxConcurrentPartitions}, leaseDuration={LeaseDuration}, loadBalancingInterval={LoadBalancingInterval}, pollInterval={PollInterval}, maxPollInterval={MaxPollInterval}, stateCommitInterval={StateCommitInterval}, createStreamsIfMissing={CreateStreamsIfMissing}, retry={Retry}, deadLetter={DeadLetterMode} -> {DeadLetterStream}, queue=({Queue})");
}
