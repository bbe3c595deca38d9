using FaasEvents.Functions;

namespace FaasApp;

/// <summary>An event of the 'TRIGGER_STREAM' stream, keyed by entity (an event without data is a tombstone).</summary>
public sealed record EntityTableChange(string Name, decimal Amount);

/// <summary>The table's value per key.</summary>
public sealed record EntityTableRow(string Name, decimal Total, int Changes);

/// <summary>
/// Folds 'TRIGGER_STREAM' into a table kept per key: query it with GET /materializers/entity-table/keys/{key} on a
/// running instance, or 'faas state get entity-table KEY'. Returning null deletes the key.
/// </summary>
public static class EntityTable
{
    [Function("entity-table")]
    public static EntityTableRow? Fold([MaterializerTrigger("TRIGGER_STREAM")] EntityTableChange? change, [CurrentState] EntityTableRow? current) =>
        change is null ? null : new EntityTableRow(change.Name, (current?.Total ?? 0) + change.Amount, (current?.Changes ?? 0) + 1);
}
