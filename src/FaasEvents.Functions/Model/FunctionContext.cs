using FaasEvents.Log.Events;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions;

/// <summary>What an invocation knows about itself (the Azure Functions <c>FunctionContext</c>, for event streams).</summary>
public abstract class FunctionContext
{
    /// <summary>Unique id of this invocation (each retry is a new invocation with the same events).</summary>
    public abstract string InvocationId { get; }

    /// <summary>The function being invoked.</summary>
    public abstract FunctionDefinition FunctionDefinition { get; }

    /// <summary>Stream the events came from.</summary>
    public string Stream => FunctionDefinition.Stream;

    /// <summary>Consumer group the function runs as.</summary>
    public string ConsumerGroup => FunctionDefinition.ConsumerGroup;

    /// <summary>Partition the events came from.</summary>
    public abstract int Partition { get; }

    /// <summary>Offset of the (first) event.</summary>
    public long Offset => Events[0].Offset;

    /// <summary>Partition key of the (first) event, if any.</summary>
    public string? Key => Events[0].Event.PartitionKey;

    /// <summary>The events of this invocation, in offset order (one for single-event functions).</summary>
    public abstract IReadOnlyList<StoredEvent> Events { get; }

    /// <summary>0 for the first try, 1 for the first retry, ...</summary>
    public abstract int RetryAttempt { get; }

    /// <summary>Retries the policy allows after the first try.</summary>
    public abstract int MaxRetryCount { get; }

    /// <summary>The invocation's scoped services.</summary>
    public abstract IServiceProvider InstanceServices { get; set; }

    /// <summary>Cancelled when the instance stops or loses the partition.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>State shared along the middleware pipeline.</summary>
    public abstract IDictionary<object, object> Items { get; }

    /// <summary>A logger for <paramref name="categoryName"/>.</summary>
    public abstract ILogger GetLogger(string categoryName);

    /// <summary>
    /// Appends <paramref name="value"/> (as a return value would be) to the function's <c>[EventOutput]</c> stream
    /// once the invocation succeeds. A materializer, whose return value is its state, emits events this way.
    /// </summary>
    public virtual void AddOutput(object value) => throw new NotSupportedException("This context does not collect outputs.");

    /// <summary>
    /// Adds an output that belongs to <paramref name="input"/> (one of <see cref="Events"/>): it inherits that input's
    /// partition key, so a batch function's outputs keep per-key order.
    /// </summary>
    public virtual void AddOutput(object value, StoredEvent input) => throw new NotSupportedException("This context does not collect outputs.");

    /// <summary>
    /// For a function consuming its stream as a queue: when the event's lock ends (after that another instance may
    /// take it). Null for stream consumption, where the partition's lease is renewed for you.
    /// </summary>
    public virtual DateTimeOffset? LockedUntil => null;

    /// <summary>
    /// For a function consuming its stream as a queue: extends the event's lock by the lock duration from now (for work
    /// that takes longer than <c>queue.lockDuration</c>) and returns the new expiry. Throws
    /// <see cref="InvalidOperationException"/> when the lock was already lost (another instance may have the event: stop
    /// and let it), and <see cref="NotSupportedException"/> for stream consumption.
    /// </summary>
    public virtual Task<DateTimeOffset> RenewLockAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"Function '{FunctionDefinition.Name}' consumes its stream as a stream: its partition lease is renewed for it; only queue consumption (Mode = Consumption.Queue) locks events.");

    /// <summary>The function's logger (category <c>Function.{name}</c>).</summary>
    public ILogger Logger => GetLogger("Function." + FunctionDefinition.Name);
}

/// <summary>Calls the rest of the pipeline (the next middleware, then the function).</summary>
/// <param name="context">The invocation.</param>
public delegate Task FunctionExecutionDelegate(FunctionContext context);
