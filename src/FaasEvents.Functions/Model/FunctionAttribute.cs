namespace FaasEvents.Functions;

/// <summary>Marks a method as a function; the name is its identity (and default consumer group).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FunctionAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">Function name: 1-200 of <c>a-z A-Z 0-9 . _ -</c>.</param>
    public FunctionAttribute(string name) => Name = name;

    /// <summary>The function name.</summary>
    public string Name { get; }
}
