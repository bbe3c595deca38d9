using FaasEvents.Functions;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Samples;

/// <summary>An order, as producers put it on the 'orders' stream (JSON data, keyed by customer).</summary>
public sealed record Order(string OrderId, string Customer, decimal Amount);

/// <summary>What the audit function emits for each order it sees.</summary>
public sealed record AuditRecord(string OrderId, int Partition, long Offset, DateTimeOffset AuditedAt);

/// <summary>An order with tax added by the pipeline's first stage.</summary>
public sealed record EnrichedOrder(string OrderId, string Customer, decimal Amount, decimal Tax, decimal Total);

/// <summary>One shipment line of an order: the split stage turns each order into two (1:2 fan-out).</summary>
public sealed record ShipmentLine(string OrderId, int Line, decimal Amount, int Partition, long Offset);

/// <summary>Tax rates, a DI service used by the enrich stage.</summary>
public sealed class TaxRates
{
    /// <summary>The rate for a customer.</summary>
    public decimal For(string customer) => customer.StartsWith("eu-", StringComparison.Ordinal) ? 0.20m : 0.08m;
}

/// <summary>Two consumer groups on one stream (1:N): both audit and billing receive every order.</summary>
public static class OrderFunctions
{
    /// <summary>Audits each order to 'orders.audit'.</summary>
    [Function("order-audit")]
    [EventOutput("orders.audit", Type = "com.example.order.audited")]
    public static AuditRecord Audit([EventTrigger("orders")] Order order, FunctionContext context, TimeProvider time)
    {
        return new AuditRecord(order.OrderId, context.Partition, context.Offset, time.GetUtcNow());
    }

    /// <summary>Bills each order; an order with a negative amount is poison: retried, then dead-lettered.</summary>
    [Function("order-billing")]
    [ExponentialBackoffRetry(3, "00:00:00.100", "00:00:01")]
    public static void Bill([EventTrigger("orders")] Order order, ILogger logger)
    {
        if (order.Amount < 0)
        {
            throw new InvalidOperationException($"Order {order.OrderId} has a negative amount ({order.Amount}); it cannot be billed.");
        }

        logger.LogDebug("Billed {OrderId}: {Amount}", order.OrderId, order.Amount);
    }

    /// <summary>Pipeline stage 1: adds tax and emits to 'orders.enriched'.</summary>
    [Function("order-enrich")]
    [EventOutput("orders.enriched", Type = "com.example.order.enriched")]
    public static EnrichedOrder Enrich([EventTrigger("orders")] Order order, TaxRates rates)
    {
        decimal tax = Math.Round(order.Amount * rates.For(order.Customer), 2);
        return new EnrichedOrder(order.OrderId, order.Customer, order.Amount, tax, order.Amount + tax);
    }

    /// <summary>Fan-out 1:2: each order becomes two shipment lines (half the amount each) on 'orders.shipments'.</summary>
    [Function("order-split")]
    [EventOutput("orders.shipments", Type = "com.example.order.shipment-line")]
    public static ShipmentLine[] Split([EventTrigger("orders")] Order order, FunctionContext context)
    {
        decimal first = Math.Round(order.Amount / 2, 2);
        return [new(order.OrderId, 1, first, context.Partition, context.Offset), new(order.OrderId, 2, order.Amount - first, context.Partition, context.Offset)];
    }

    /// <summary>Pipeline stage 2: ships enriched orders, a batch at a time.</summary>
    [Function("shipping")]
    public static void Ship([EventTrigger("orders.enriched")] IReadOnlyList<EnrichedOrder> orders, FunctionContext context)
    {
        context.Logger.LogInformation("Shipping {Count} order(s) from partition {Partition}, offsets {First}..{Last}, total {Total}", orders.Count, context.Partition, context.Offset, context.Events[^1].Offset, orders.Sum(o => o.Total));
    }
}

/// <summary>Sample middleware: warns about slow invocations.</summary>
public sealed class SlowInvocationLogger : IFunctionsWorkerMiddleware
{
    /// <inheritdoc/>
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        await next(context);
        TimeSpan took = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        if (took > TimeSpan.FromSeconds(1))
        {
            context.Logger.LogWarning("Invocation {Id} took {Ms:N0} ms", context.InvocationId, took.TotalMilliseconds);
        }
    }
}
