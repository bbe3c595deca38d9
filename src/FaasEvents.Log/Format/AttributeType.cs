namespace FaasEvents.Log.Format;

/// <summary>CloudEvents attribute types, as stored in the type byte of an encoded attribute.</summary>
internal enum AttributeType : byte
{
    Boolean = 1,
    Integer = 2,
    String = 3,
    Binary = 4,
    Uri = 5,
    UriReference = 6,
    Timestamp = 7,
}
