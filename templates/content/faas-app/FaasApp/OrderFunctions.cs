using FaasEvents.Functions;
using Microsoft.Extensions.Logging;

namespace FaasApp;

/// <summary>An order placed in the shop: the data of each event on the 'orders' stream.</summary>
public sealed record Order(string OrderId, string Customer, decimal Amount);

/// <summary>What <see cref="OrderFunctions.Confirm"/> writes to the 'orders.confirmed' stream for each order.</summary>
public sealed record OrderConfirmed(string OrderId, string Customer, decimal Amount, string Message);

/// <summary>The app's functions: woken when events wait on their trigger stream, scaled with the backlog.</summary>
public static class OrderFunctions
{
    /// <summary>Confirms each order. What it returns is appended to 'orders.confirmed' (exactly once, with the order's key).</summary>
    [Function("confirm-order")]
    [EventOutput("orders.confirmed")]
    public static OrderConfirmed Confirm([EventTrigger("orders")] Order order, ILogger logger)
    {
        logger.LogInformation("Confirming order {OrderId} of {Customer} ({Amount})", order.OrderId, order.Customer, order.Amount);
        return new OrderConfirmed(order.OrderId, order.Customer, order.Amount, $"Thank you for your order, {order.Customer}!");
    }
}
