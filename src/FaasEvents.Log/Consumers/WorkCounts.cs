using System.Globalization;

namespace FaasEvents.Log.Consumers;

/// <summary>
/// What a consumer group's function did in one partition, kept with the partition's checkpoint (stream consumption) or
/// its queue state (queue consumption), so the counts cost no request of their own and outlive the instances that
/// made them. Counted when they are checkpointed: work an instance did but never checkpointed (it crashed or lost the
/// partition) is not counted; its successor's invocations of the same events are.
/// </summary>
/// <param name="Handled">Events handled (a batch function's invocation counts each event it was given).</param>
/// <param name="Failures">Invocations that threw (each retry that fails counts again).</param>
/// <param name="Retries">Invocations that were retries of a failed one (or, for a queue, redeliveries).</param>
/// <param name="DeadLettered">Events dead-lettered.</param>
/// <param name="ColdStarts">Instances that started and invoked the function for the first time on this partition.</param>
public sealed record WorkCounts(long Handled, long Failures, long Retries, long DeadLettered, long ColdStarts)
{
    /// <summary>Nothing counted.</summary>
    public static WorkCounts None { get; } = new(0, 0, 0, 0, 0);

    /// <summary>True when every count is zero.</summary>
    public bool IsNone => this == None;

    /// <summary>Both added.</summary>
    public static WorkCounts operator +(WorkCounts a, WorkCounts b) =>
        new(a.Handled + b.Handled, a.Failures + b.Failures, a.Retries + b.Retries, a.DeadLettered + b.DeadLettered, a.ColdStarts + b.ColdStarts);

    /// <summary>What <paramref name="a"/> counted since <paramref name="b"/>.</summary>
    public static WorkCounts operator -(WorkCounts a, WorkCounts b) =>
        new(a.Handled - b.Handled, a.Failures - b.Failures, a.Retries - b.Retries, a.DeadLettered - b.DeadLettered, a.ColdStarts - b.ColdStarts);

    /// <summary>The sum of those counted (null when none was).</summary>
    public static WorkCounts? Sum(IEnumerable<WorkCounts?> counts) => counts.Aggregate((WorkCounts?)null, (sum, c) => c is null ? sum : (sum ?? None) + c);

    /// <summary>The stored form: five numbers, e.g. <c>120,3,2,1,1</c>.</summary>
    public override string ToString() => string.Join(',', new[] { Handled, Failures, Retries, DeadLettered, ColdStarts }.Select(n => n.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Reads <see cref="ToString"/>'s form; null when absent or not in that form (so counts never break a checkpoint).</summary>
    public static WorkCounts? Parse(string? stored)
    {
        string[] parts = stored?.Split(',') ?? [];
        var n = new long[5];
        if (parts.Length != 5)
        {
            return null;
        }

        for (int i = 0; i < 5; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out n[i]))
            {
                return null;
            }
        }

        return new WorkCounts(n[0], n[1], n[2], n[3], n[4]);
    }
}
