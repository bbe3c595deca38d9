namespace FaasEvents.Functions;

/// <summary>The default state serializer: JSON with System.Text.Json's web defaults (camelCase).</summary>
public sealed class JsonStateSerializer : IStateSerializer
{
    /// <inheritdoc/>
    public BinaryData Serialize(object value, Type type) => new(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value, type, Runtime.FunctionInvoker.Json));

    /// <inheritdoc/>
    public object? Deserialize(BinaryData data, Type type)
    {
        ArgumentNullException.ThrowIfNull(data);
        return System.Text.Json.JsonSerializer.Deserialize(data.ToMemory().Span, type, Runtime.FunctionInvoker.Json);
    }
}
