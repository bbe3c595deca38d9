using FaasEvents.Testing;
using Xunit;

namespace FaasApp.Tests;

/// <summary>Runs the functions through the real FaasEvents runtime in memory: no storage, milliseconds per test.</summary>
public class OrderFunctionsTests
{
    [Fact]
    public async Task Every_order_is_confirmed_once()
    {
        await using FunctionTestHost host = await FunctionTestHost.StartAsync(typeof(OrderFunctions));

        host.Send("orders", new Order("o-1", "bob", 42m), key: "bob");
        host.Send("orders", new Order("o-2", "alice", 7m), key: "alice");
        await host.WaitForIdleAsync();

        IReadOnlyList<OrderConfirmed?> confirmed = host.Events<OrderConfirmed>("orders.confirmed");
        Assert.Equal(["o-1", "o-2"], confirmed.Select(c => c!.OrderId).Order());
        Assert.Contains(confirmed, c => c!.Message == "Thank you for your order, bob!");
        Assert.Empty(host.DeadLetters("confirm-order"));
    }
}
