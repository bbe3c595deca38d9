namespace FaasEvents.Functions;

/// <summary>Middleware around every invocation, as in Azure Functions' isolated worker.</summary>
public interface IFunctionsWorkerMiddleware
{
    /// <summary>Runs around an invocation; call <paramref name="next"/> to continue.</summary>
    Task Invoke(FunctionContext context, FunctionExecutionDelegate next);
}
