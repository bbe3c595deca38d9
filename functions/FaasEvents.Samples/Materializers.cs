using FaasEvents.Functions;

namespace FaasEvents.Samples;

/// <summary>A book entity on the 'books' stream, keyed by ISBN. An event with no data (a tombstone) deletes the book.</summary>
public sealed record Book(string Isbn, string Title, string Author, int Year);

/// <summary>A stock movement on the 'stock-movements' stream, keyed by SKU: a sale or a restock.</summary>
public sealed record StockMovement(string Kind, int Quantity);

/// <summary>The inventory table's value per SKU.</summary>
public sealed record StockLevel(int OnHand, int Sold, int Restocked);

/// <summary>Emitted to 'inventory.reorders' when a SKU's stock falls below the threshold.</summary>
public sealed record Reorder(string Sku, int OnHand, int Quantity);

/// <summary>The customer-totals table's value per customer: orders counted and summed, the last one seen.</summary>
public sealed record CustomerTotal(int Orders, decimal Amount, string LastOrderId);

/// <summary>Materializers: entity streams folded into queryable tables (GET /materializers/{name}/keys/{key}, faas state get).</summary>
public static class MaterializerFunctions
{
    /// <summary>Stock below this triggers a reorder.</summary>
    public const int ReorderThreshold = 10;

    /// <summary>Units ordered by a reorder.</summary>
    public const int ReorderQuantity = 50;

    /// <summary>
    /// The book catalog: the latest version of each book wins, a tombstone deletes it. Every committed change is
    /// published to 'book-catalog.changelog' so other services can keep a copy of the table.
    /// </summary>
    [Function("book-catalog")]
    public static Book? Catalog([MaterializerTrigger("books", Changelog = true)] Book? book) => book;

    /// <summary>
    /// Orders per customer (a fold of the 'orders' event stream, keyed by customer), each change published to
    /// 'customer-totals.changelog': folding the changelog gives the same table.
    /// </summary>
    [Function("customer-totals")]
    public static CustomerTotal? Totals([MaterializerTrigger("orders", Changelog = true)] Order? order, [CurrentState] CustomerTotal? current) =>
        order is null ? null : new CustomerTotal((current?.Orders ?? 0) + 1, (current?.Amount ?? 0) + order.Amount, order.OrderId);

    /// <summary>
    /// Stock per SKU from sales and restocks (a custom fold). When a sale takes the stock below
    /// <see cref="ReorderThreshold"/>, a reorder event goes to 'inventory.reorders'. A tombstone discontinues the SKU.
    /// </summary>
    [Function("inventory")]
    [EventOutput("inventory.reorders", Type = "com.example.inventory.reorder")]
    public static StockLevel? Inventory([MaterializerTrigger("stock-movements")] StockMovement? movement, [CurrentState] StockLevel? current, [EntityKey] string sku, FunctionContext context)
    {
        if (movement is null)
        {
            return null; // discontinued: the SKU leaves the table
        }

        StockLevel now = current ?? new StockLevel(0, 0, 0);
        StockLevel next = movement.Kind switch
        {
            "sale" => now with { OnHand = now.OnHand - movement.Quantity, Sold = now.Sold + movement.Quantity },
            "restock" => now with { OnHand = now.OnHand + movement.Quantity, Restocked = now.Restocked + movement.Quantity },
            _ => throw new InvalidDataException($"Stock movement of SKU '{sku}' has kind '{movement.Kind}'; expected 'sale' or 'restock'."),
        };
        if (now.OnHand >= ReorderThreshold && next.OnHand < ReorderThreshold)
        {
            context.AddOutput(new Reorder(sku, next.OnHand, ReorderQuantity));
        }

        return next;
    }
}
