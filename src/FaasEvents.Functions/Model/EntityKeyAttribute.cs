namespace FaasEvents.Functions;

/// <summary>On a <c>string</c> parameter: receives the event's partition key (a materializer's entity key).</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false)]
public sealed class EntityKeyAttribute : Attribute
{
}
