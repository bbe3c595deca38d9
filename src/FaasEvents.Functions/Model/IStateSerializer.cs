namespace FaasEvents.Functions;

/// <summary>
/// Turns materializer state into bytes and back. The default writes JSON (System.Text.Json, web defaults);
/// register another implementation in <c>builder.Services</c> to replace it.
/// </summary>
public interface IStateSerializer
{
    /// <summary>Serializes a state value of type <paramref name="type"/>.</summary>
    BinaryData Serialize(object value, Type type);

    /// <summary>Deserializes a state value of type <paramref name="type"/>.</summary>
    object? Deserialize(BinaryData data, Type type);
}
