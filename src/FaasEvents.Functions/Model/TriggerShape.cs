namespace FaasEvents.Functions;

internal sealed record TriggerShape(ElementKind Element, Type ElementType, CollectionKind Collection)
{
    public bool IsBatch => Collection != CollectionKind.None;
}
