using System.ComponentModel;

namespace FaasEvents.Functions;

/// <summary>
/// One entry of the function index the FaasEvents source generator writes into an app (not for hand-written code):
/// where the <c>[Function]</c> method is and, when generated code can call it, a reflection-free invoker.
/// </summary>
/// <param name="Name">The function's name.</param>
/// <param name="DeclaringType">The type declaring the method.</param>
/// <param name="MethodName">The method's name.</param>
/// <param name="ParameterCount">The method's parameter count (tells overloads apart).</param>
/// <param name="Invoke">Calls the method: (instance or null, bound arguments) -> what it returned (null for void); null when the method is private.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record GeneratedFunction(string Name, Type DeclaringType, string MethodName, int ParameterCount, Func<object?, object?[], object?>? Invoke);
