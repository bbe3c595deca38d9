namespace FaasEvents.Functions;

internal enum ParameterKind
{
    Trigger,
    Context,
    CancellationToken,
    Logger,
    Service,
    State,
    Key,
}
