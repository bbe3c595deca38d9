namespace FaasEvents.Functions;

internal enum AsyncKind
{
    Sync,
    Task,
    ValueTask,
}
