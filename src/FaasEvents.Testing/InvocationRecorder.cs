using FaasEvents.Functions;

namespace FaasEvents.Testing;

/// <summary>The test host's outermost middleware: records every attempt and counts those in flight.</summary>
internal sealed class InvocationRecorder : IFunctionsWorkerMiddleware
{
    private readonly Lock gate = new();
    private readonly List<Invocation> invocations = [];
    private int inFlight;

    public int InFlight => Volatile.Read(ref inFlight);

    /// <summary>Attempts finished so far.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return invocations.Count;
            }
        }
    }

    public IReadOnlyList<Invocation> Snapshot()
    {
        lock (gate)
        {
            return [.. invocations];
        }
    }

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        Interlocked.Increment(ref inFlight);
        Exception? error = null;
        try
        {
            await next(context);
        }
        catch (Exception ex)
        {
            error = ex;
            throw;
        }
        finally
        {
            lock (gate)
            {
                invocations.Add(new Invocation(context.FunctionDefinition.Name, context.Partition, context.Events, context.RetryAttempt, error));
            }

            Interlocked.Decrement(ref inFlight);
        }
    }
}
