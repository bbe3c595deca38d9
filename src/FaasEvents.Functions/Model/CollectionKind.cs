namespace FaasEvents.Functions;

internal enum CollectionKind
{
    None,
    Array,
    List,
}
