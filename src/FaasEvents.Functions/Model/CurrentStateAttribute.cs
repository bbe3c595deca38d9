namespace FaasEvents.Functions;

/// <summary>On a materializer parameter: receives the key's current state (null when the key is absent).</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false)]
public sealed class CurrentStateAttribute : Attribute
{
}
