using System.Diagnostics;
using System.Text.Json;
using FaasEvents.Functions.Telemetry;
using FaasEvents.Log;
using FaasEvents.Log.DeadLetters;
using FaasEvents.Log.Events;
using FaasEvents.Log.Queues;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>
/// Handles one event a queue consumer acquired and says how it ends: <b>accepted</b> once the handler returned and its
/// outputs are written; <b>released</b> after a failure, to come back after the retry policy's delay for that delivery;
/// <b>rejected</b> once it is dead-lettered with its delivery history (the delivery that reached maxDeliveryCount
/// failed, or the one after a lock ran out on the last). Null: the lock ran out here, nothing is settled (the event is
/// delivered again, and its outputs, if written, are written again: the one kind of duplicate queue consumption has).
/// </summary>
internal sealed class QueueEventHandler(FunctionHost host, QueueOptions options, TimeProvider clock, CancellationToken cutShort)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private string? haltReason;

    /// <summary>Set when outputs are refused for a reason no redelivery fixes (not the output stream's owner).</summary>
    public string? HaltReason => Volatile.Read(ref haltReason);

    /// <param name="partition">The event's partition.</param>
    /// <param name="outputWriter">The partition's output writer id (deterministic output ids per input event).</param>
    /// <param name="delivery">The delivery: offset, count, history.</param>
    /// <param name="e">The event.</param>
    /// <param name="held">Its lock.</param>
    /// <param name="metrics">The partition's metrics.</param>
    /// <param name="stall">The partition's write stall.</param>
    public async Task<QueueSettlement?> HandleAsync(int partition, Guid outputWriter, QueueDelivery delivery, StoredEvent e, EventLock held, PartitionMetrics metrics, WriteStall stall)
    {
        FunctionDefinition fn = host.Function;
        if (delivery.Deliveries > options.MaxDeliveryCount)
        {
            // Its last delivery ended with the lock running out (a crash or a stall): no more tries.
            QueueAttempt last = delivery.History.Count > 0 ? delivery.History[^1] : new QueueAttempt("?", clock.GetUtcNow(), QueueBook.LockExpired);
            return await DeadLetterAsync(partition, delivery, e, held, new TimeoutException($"delivery {delivery.Deliveries - 1} of {options.MaxDeliveryCount} ended with its lock running out on {last.Owner}"), [], metrics, stall);
        }

        if (held.Expired || HaltReason is not null)
        {
            return null; // too late to start (e.g. resumed after a pause), or halted: its lock runs out and someone else takes it
        }

        RetrySettings retry = fn.Retry ?? host.Options.Retry;
        int attempt = delivery.Deliveries - 1;
        if (attempt > 0)
        {
            metrics.Retried();
        }

        ColdStart.Invoking(host.Function.Name, metrics, e, host.Time);
        long started = Stopwatch.GetTimestamp();
        Activity? span = FunctionActivities.StartProcess(fn, partition, [e], attempt);
        Exception? error = null;
        InvocationResult result = default;
        try
        {
            result = await host.Invoker.InvokeAsync([e], partition, outputWriter, attempt, options.MaxDeliveryCount - 1, cutShort, eventLock: held);
            if (result.Outputs.Count > 0)
            {
                await host.CheckOutputsAsync(result.Outputs, cutShort);
                foreach (LogEvent output in result.Outputs)
                {
                    output.CheckWritable();
                }
            }
        }
        catch (Exception ex) when (cutShort.IsCancellationRequested)
        {
            error = ex;
            host.Logger.LogWarning("{Function}: the invocation for {Stream} partition {Partition} offset {Offset} was cancelled: the shutdown budget ran out (released for another instance)", fn.Name, fn.Stream, partition, e.Offset);
            return new QueueSettlement(e.Offset, QueueOutcome.Released, TimeSpan.Zero, "cancelled: the instance stopped");
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.NotStreamOwner)
        {
            error = ex;
            return Halt(e, $"outputs refused: {ex.Message.Split('\n')[0]}", "Restart the app once it may write its output stream.", null);
        }
        catch (Exception ex)
        {
            error = ex;
            metrics.Failed();
            host.Logger.LogWarning(ex, "{Function}: delivery {Delivery} of {Max} failed for {Stream} partition {Partition} offset {Offset} (event {Id})", fn.Name, delivery.Deliveries, options.MaxDeliveryCount, fn.Stream, partition, e.Offset, e.Event.Id);
        }
        finally
        {
            metrics.Invoked(Stopwatch.GetElapsedTime(started).TotalSeconds, error);
            if (error is not null)
            {
                FunctionActivities.Failed(span, error);
            }

            span?.Dispose();
        }

        if (error is not null)
        {
            return delivery.Deliveries >= options.MaxDeliveryCount
                ? await DeadLetterAsync(partition, delivery, e, held, error, [new QueueAttempt(host.InstanceId, clock.GetUtcNow(), DeadLetterWriter.ErrorText(error))], metrics, stall)
                : new QueueSettlement(e.Offset, QueueOutcome.Released, retry.GetDelay(delivery.Deliveries), DeadLetterWriter.ErrorText(error));
        }

        if (result.Outputs.Count > 0 && !await AppendOutputsAsync(partition, e, held, result.Outputs, stall))
        {
            return null;
        }

        metrics.Handled(1);
        return new QueueSettlement(e.Offset, QueueOutcome.Accepted);
    }

    /// <summary>
    /// Appends the outputs (plain appends: queue events finish in no order, so they are not sequenced writes), waiting out
    /// storage failures while the lock lasts. False when the lock ran out or the instance is cut short first.
    /// </summary>
    private async Task<bool> AppendOutputsAsync(int partition, StoredEvent e, EventLock held, IReadOnlyList<LogEvent> outputs, WriteStall stall)
    {
        using CancellationTokenSource? expiry = WhileLocked(held);
        if (expiry is null)
        {
            return false;
        }

        try
        {
            await InfrastructureRetry.RunAsync(ct => host.Outputs.AppendAsync(host.Function.Output!.Connection, host.Function.Output.Stream, outputs, null, ct), $"{host.Function.Name}: appending {outputs.Count} output(s) of {host.Function.Stream} partition {partition} offset {e.Offset}", host.Logger, host.Time, stall, expiry.Token);
            return true;
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task<QueueSettlement?> DeadLetterAsync(int partition, QueueDelivery delivery, StoredEvent e, EventLock held, Exception error, IReadOnlyList<QueueAttempt> latest, PartitionMetrics metrics, WriteStall stall)
    {
        if (host.Options.DeadLetterMode == DeadLetterMode.Stop)
        {
            return Halt(e, $"offset {e.Offset} of partition {partition} failed {delivery.Deliveries} deliveries (deadLetter.mode = stop): {error.Message.Split('\n')[0]}", "Fix the cause and restart the app.", error);
        }

        List<QueueAttempt> history = [.. delivery.History, .. latest];
        string historyJson = JsonSerializer.Serialize(history.Select(h => new { owner = h.Owner, at = h.At, outcome = h.Outcome }), Json);
        using CancellationTokenSource? expiry = WhileLocked(held);
        if (expiry is null)
        {
            return null; // the next delivery dead-letters it
        }

        try
        {
            await host.DeadLetters.WriteAsync([e], partition, null, error, delivery.Deliveries, stall, expiry.Token, new Dictionary<string, object> { [DeadLetterAttributes.History] = historyJson });
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested)
        {
            return null; // not written before the lock ran out: the next delivery dead-letters it
        }
        catch (Exception ex) when (!InfrastructureRetry.IsInfrastructure(ex))
        {
            return Halt(e, $"the dead letter for offset {e.Offset} of partition {partition} cannot be written: {ex.Message.Split('\n')[0]}", "Fix the cause and restart the app.", null);
        }

        metrics.DeadLettered(1);
        return new QueueSettlement(e.Offset, QueueOutcome.Rejected);
    }

    /// <summary>Cancelled when the lock is about to run out or the instance is cut short; null when it is too late already.</summary>
    private CancellationTokenSource? WhileLocked(EventLock held)
    {
        TimeSpan left = held.Remaining;
        if (left <= TimeSpan.Zero)
        {
            return null;
        }

        var expiry = CancellationTokenSource.CreateLinkedTokenSource(cutShort);
        expiry.CancelAfter(left);
        return expiry;
    }

    /// <summary>No redelivery helps: the function stops taking events (health says why) and gives this one back for later.</summary>
    private QueueSettlement Halt(StoredEvent e, string reason, string fix, Exception? error)
    {
        Volatile.Write(ref haltReason, reason);
        host.Logger.LogCritical(error, "{Function}: STOPPED taking events from {Stream}: {Reason}. {Fix}", host.Function.Name, host.Function.Stream, reason, fix);
        return new QueueSettlement(e.Offset, QueueOutcome.Released, TimeSpan.Zero, reason);
    }
}
