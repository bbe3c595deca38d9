using System.Collections;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using CloudNative.CloudEvents;
using FaasEvents.Log.Events;
using FaasEvents.Log.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FaasEvents.Functions.Runtime;

/// <summary>Binds an invocation's arguments, runs the middleware pipeline and the method, and collects its outputs.</summary>
internal sealed class FunctionInvoker
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly FunctionDefinition function;
    private readonly IServiceProvider services;
    private readonly ILoggerFactory loggers;
    private readonly IReadOnlyList<Type> middleware;
    private readonly TimeProvider time;

    private readonly bool needsScope;
    private readonly bool takesContext;
    private readonly ILogger logger;

    public FunctionInvoker(FunctionDefinition function, IServiceProvider services, IReadOnlyList<Type> middleware, TimeProvider time)
    {
        this.function = function;
        this.services = services;
        loggers = services.GetRequiredService<ILoggerFactory>();
        this.middleware = middleware;
        this.time = time;

        // A scope per invocation only when something can use one: services, an instance method, or middleware.
        needsScope = middleware.Count > 0 || !function.Method.IsStatic || function.Parameters.Any(p => p.Kind == ParameterKind.Service);
        takesContext = function.Parameters.Any(p => p.Kind == ParameterKind.Context);
        logger = loggers.CreateLogger("Function." + function.Name);
    }

    /// <summary>
    /// Runs one invocation; returns the events to append to the output stream (empty if none) and, for a
    /// materializer, the key's new state (applied by the caller only once the outputs are appended).
    /// </summary>
    public async ValueTask<InvocationResult> InvokeAsync(IReadOnlyList<StoredEvent> events, int partition, Guid outputWriter, int attempt, int maxRetries, CancellationToken cancellationToken, MaterializedTable? table = null, EventLock? eventLock = null)
    {
        if (!needsScope && !takesContext)
        {
            // Nothing can reach a context (no FunctionContext parameter, no middleware, no scope): none is made.
            object? value = await RunMethodAsync(events, null, services, cancellationToken, table);
            if (function.IsMaterializer)
            {
                return new InvocationResult([], [], value);
            }

            if (function.Output is not { } output || value is null)
            {
                return new InvocationResult([], [], null);
            }

            var ids = new OutputIds(outputWriter);
            List<LogEvent> outputs = [];
            AddReturned(value, output, events, ids, outputs);
            StampTraceContext(outputs);
            return new InvocationResult(outputs, ids.Marks, null);
        }

        if (!needsScope)
        {
            var direct = new InvocationContext(function, partition, outputWriter, events, attempt, maxRetries, services, cancellationToken, loggers, this, table) { Lock = eventLock };
            await ExecuteAsync(direct);
            StampTraceContext(direct.OutputsOrEmpty);
            return new InvocationResult(direct.OutputsOrEmpty, direct.MarksOrEmpty, direct.State);
        }

        await using AsyncServiceScope scope = services.CreateAsyncScope();
        var context = new InvocationContext(function, partition, outputWriter, events, attempt, maxRetries, scope.ServiceProvider, cancellationToken, loggers, this, table) { Lock = eventLock };
        FunctionExecutionDelegate pipeline = ExecuteAsync;
        for (int i = middleware.Count - 1; i >= 0; i--)
        {
            var m = (IFunctionsWorkerMiddleware)scope.ServiceProvider.GetRequiredService(middleware[i]);
            FunctionExecutionDelegate next = pipeline;
            pipeline = c => m.Invoke(c, next);
        }

        await pipeline(context);
        StampTraceContext(context.OutputsOrEmpty);
        return new InvocationResult(context.OutputsOrEmpty, context.MarksOrEmpty, context.State);
    }

    /// <summary>Outputs carry the invocation's span (the current one) as the context they were created in, unless they have their own.</summary>
    private static void StampTraceContext(IReadOnlyList<LogEvent> outputs)
    {
        if (outputs.Count > 0 && Activity.Current is { } span)
        {
            foreach (LogEvent output in outputs)
            {
                EventTraceContext.Inject(output, span.Context);
            }
        }
    }

    private async Task ExecuteAsync(FunctionContext context)
    {
        var ctx = (InvocationContext)context;
        object? value = await RunMethodAsync(ctx.Events, ctx, ctx.InstanceServices, ctx.CancellationToken, ctx.Table);
        if (function.IsMaterializer)
        {
            ctx.State = value;
        }
        else if (function.Output is { } output && value is not null)
        {
            AddReturned(value, output, ctx.Events, ctx.Ids, ctx.Outputs);
        }
    }

    /// <summary>Binds the arguments, runs the method and returns what it returned (awaited when it is a task).</summary>
    private async ValueTask<object?> RunMethodAsync(IReadOnlyList<StoredEvent> events, InvocationContext? ctx, IServiceProvider instanceServices, CancellationToken cancellationToken, MaterializedTable? table)
    {
        string? key = events[0].Event.PartitionKey;
        if (function.IsMaterializer && key is null)
        {
            throw new UnkeyedEntityException($"Event '{events[0].Event.Id}' at offset {events[0].Offset} has no partition key; materializer '{function.Name}' folds entity events keyed by entity id. Produce it with a key (faas produce --key, partitionkey extension).");
        }

        object?[] args = new object?[function.Parameters.Length];
        for (int i = 0; i < args.Length; i++)
        {
            ParameterBinding p = function.Parameters[i];
            args[i] = p.Kind switch
            {
                ParameterKind.Trigger => BindTrigger(events),
                ParameterKind.Context => ctx,
                ParameterKind.CancellationToken => cancellationToken,
                ParameterKind.Logger => logger,
                ParameterKind.Key => key,
                ParameterKind.State => table?.Get(key!),
                _ => instanceServices.GetRequiredService(p.Type),
            };
        }

        object? target = function.Method.IsStatic ? null : ActivatorUtilities.GetServiceOrCreateInstance(instanceServices, function.Method.DeclaringType!);
        object? result;
        try
        {
            result = function.Invoke is { } invoke ? invoke(target, args) : function.Method.Invoke(target, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }

        return function.Returns.Async == AsyncKind.Sync ? result : await UnwrapAsync(result); // no task for a plain return
    }

    /// <summary>
    /// The key an output inherits when nothing says which input it belongs to: the inputs' key when they share one
    /// (always so for a single event), else none (a batch of several keys; never the first input's key).
    /// </summary>
    internal static string? CommonKey(IReadOnlyList<StoredEvent> events)
    {
        string? key = events[0].Event.PartitionKey;
        for (int i = 1; i < events.Count; i++)
        {
            if (!string.Equals(events[i].Event.PartitionKey, key, StringComparison.Ordinal))
            {
                return null;
            }
        }

        return key;
    }

    /// <summary>
    /// A batch function's returned collection with one item per input (same count) is aligned with its inputs: item i
    /// inherits input i's key. Anything else inherits <see cref="CommonKey"/>.
    /// </summary>
    private void AddReturned(object value, EventOutputAttribute output, IReadOnlyList<StoredEvent> events, OutputIds ids, List<LogEvent> into)
    {
        if (function.Shape.IsBatch && events.Count > 1 && value is IEnumerable items and not string and not byte[] and not BinaryData)
        {
            List<object?> list = items.Cast<object?>().ToList();
            if (list.Count == events.Count)
            {
                for (int i = 0; i < list.Count; i++)
                {
                    if (list[i] is { } item)
                    {
                        ToEvents(item, output, events[i].Event.PartitionKey, events[i].Offset, ids, into);
                    }
                }

                return;
            }
        }

        ToEvents(value, output, CommonKey(events), events[0].Offset, ids, into);
    }

    private async Task<object?> UnwrapAsync(object? result)
    {
        switch (function.Returns.Async)
        {
            case AsyncKind.Sync:
                return result;
            case AsyncKind.Task:
                var task = (Task)result!;
                await task;
                return function.Returns.ValueType is null ? null : task.GetType().GetProperty("Result")!.GetValue(task);
            default:
                if (function.Returns.ValueType is null)
                {
                    await (ValueTask)result!;
                    return null;
                }

                var asTask = (Task)result!.GetType().GetMethod("AsTask")!.Invoke(result, null)!;
                await asTask;
                return asTask.GetType().GetProperty("Result")!.GetValue(asTask);
        }
    }

    private object? BindTrigger(IReadOnlyList<StoredEvent> events)
    {
        TriggerShape shape = function.Shape;
        if (!shape.IsBatch)
        {
            return Convert(events[0], shape);
        }

        Array array = Array.CreateInstance(shape.ElementType, events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            array.SetValue(Convert(events[i], shape), i);
        }

        if (shape.Collection == CollectionKind.Array)
        {
            return array;
        }

        var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(shape.ElementType), events.Count)!;
        foreach (object? item in array)
        {
            list.Add(item);
        }

        return list;
    }

    private static object? Convert(StoredEvent stored, TriggerShape shape)
    {
        LogEvent e = stored.Event;
        return shape.Element switch
        {
            ElementKind.CloudEvent => CloudEventConverter.ToCloudEvent(e),
            ElementKind.LogEvent => e,
            ElementKind.StoredEvent => stored,
            ElementKind.String => e.Data?.ToString(),
            ElementKind.Bytes => e.Data?.ToArray(),
            ElementKind.BinaryData => e.Data,
            _ => e.Data is null ? null : DeserializePoco(e, shape.ElementType),
        };
    }

    private static object? DeserializePoco(LogEvent e, Type type)
    {
        try
        {
            return JsonSerializer.Deserialize(e.Data!.ToMemory().Span, type, Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Event '{e.Id}' data is not JSON of type {type.Name}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Adds the events <paramref name="value"/> stands for; each takes the next output index of the input at
    /// <paramref name="inputOffset"/>, and events the runtime makes get the deterministic id of that index.
    /// </summary>
    internal void ToEvents(object value, EventOutputAttribute output, string? inputKey, long inputOffset, OutputIds ids, List<LogEvent> into)
    {
        switch (value)
        {
            case LogEvent le:
                ids.Next(inputOffset);
                le.PartitionKey ??= inputKey;
                into.Add(le);
                break;
            case CloudEvent ce:
                ids.Next(inputOffset);
                LogEvent converted = CloudEventConverter.ToLogEvent(ce);
                converted.PartitionKey ??= inputKey;
                into.Add(converted);
                break;
            case string s:
                into.Add(NewOutput(output, inputKey, "text/plain", BinaryData.FromString(s), ids.Next(inputOffset)));
                break;
            case byte[] b:
                into.Add(NewOutput(output, inputKey, "application/octet-stream", new BinaryData(b), ids.Next(inputOffset)));
                break;
            case BinaryData bd:
                into.Add(NewOutput(output, inputKey, "application/octet-stream", bd, ids.Next(inputOffset)));
                break;
            case IEnumerable items:
                foreach (object? item in items)
                {
                    if (item is not null)
                    {
                        ToEvents(item, output, inputKey, inputOffset, ids, into);
                    }
                }

                break;
            default:
                into.Add(NewOutput(output, inputKey, "application/json", new BinaryData(JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), Json)), ids.Next(inputOffset)));
                break;
        }
    }

    private LogEvent NewOutput(EventOutputAttribute output, string? key, string contentType, BinaryData data, string id) =>
        new(id, $"/faas/functions/{function.Name}", output.Type ?? $"{function.Name}.output")
        {
            PartitionKey = key,
            Time = time.GetUtcNow(),
            DataContentType = contentType,
            Data = data,
        };

    private sealed class InvocationContext : FunctionContext
    {
        private readonly ILoggerFactory loggers;
        private readonly FunctionInvoker invoker;

        private readonly Guid outputWriter;

        public InvocationContext(FunctionDefinition function, int partition, Guid outputWriter, IReadOnlyList<StoredEvent> events, int attempt, int maxRetries, IServiceProvider services, CancellationToken cancellationToken, ILoggerFactory loggers, FunctionInvoker invoker, MaterializedTable? table)
        {
            this.outputWriter = outputWriter;
            this.invoker = invoker;
            Table = table;
            FunctionDefinition = function;
            Partition = partition;
            Events = events;
            RetryAttempt = attempt;
            MaxRetryCount = maxRetries;
            InstanceServices = services;
            CancellationToken = cancellationToken;
            this.loggers = loggers;
        }

        private string? invocationId;
        private Dictionary<object, object>? items;
        private List<LogEvent>? outputs;
        private OutputIds? ids;

        public List<LogEvent> Outputs => outputs ??= [];

        /// <summary>Deterministic ids for this invocation's outputs (the input partition's writer id).</summary>
        public OutputIds Ids => ids ??= new OutputIds(outputWriter);

        public MaterializedTable? Table { get; }

        /// <summary>A queue function's lock on its event (null for stream consumption).</summary>
        public EventLock? Lock { get; init; }

        public override DateTimeOffset? LockedUntil => Lock?.LockedUntil;

        public override Task<DateTimeOffset> RenewLockAsync(CancellationToken cancellationToken = default) =>
            Lock is { } held ? held.RenewAsync(cancellationToken) : base.RenewLockAsync(cancellationToken);

        /// <summary>A materializer's returned state (null = delete).</summary>
        public object? State { get; set; }

        public override void AddOutput(object value)
        {
            ArgumentNullException.ThrowIfNull(value);
            EventOutputAttribute output = FunctionDefinition.Output ?? throw new InvalidOperationException($"Function '{FunctionDefinition.Name}' called AddOutput but has no [EventOutput(\"stream\")] saying where outputs go.");
            invoker.ToEvents(value, output, CommonKey(Events), Events[0].Offset, Ids, Outputs);
        }

        public override void AddOutput(object value, StoredEvent input)
        {
            ArgumentNullException.ThrowIfNull(value);
            ArgumentNullException.ThrowIfNull(input);
            EventOutputAttribute output = FunctionDefinition.Output ?? throw new InvalidOperationException($"Function '{FunctionDefinition.Name}' called AddOutput but has no [EventOutput(\"stream\")] saying where outputs go.");
            if (!Events.Any(e => e.Partition == input.Partition && e.Offset == input.Offset))
            {
                throw new ArgumentException($"AddOutput(value, input): the input at partition {input.Partition} offset {input.Offset} is not one of this invocation's events.", nameof(input));
            }

            invoker.ToEvents(value, output, input.Event.PartitionKey, input.Offset, Ids, Outputs);
        }

        public IReadOnlyList<LogEvent> OutputsOrEmpty => (IReadOnlyList<LogEvent>?)outputs ?? [];

        /// <summary>One writer mark per output, in the same order.</summary>
        public IReadOnlyList<WriterMark> MarksOrEmpty => (IReadOnlyList<WriterMark>?)ids?.Marks ?? [];

        public override string InvocationId => invocationId ??= Guid.NewGuid().ToString();

        public override FunctionDefinition FunctionDefinition { get; }

        public override int Partition { get; }

        public override IReadOnlyList<StoredEvent> Events { get; }

        public override int RetryAttempt { get; }

        public override int MaxRetryCount { get; }

        public override IServiceProvider InstanceServices { get; set; }

        public override CancellationToken CancellationToken { get; }

        public override IDictionary<object, object> Items => items ??= [];

        public override ILogger GetLogger(string categoryName) => loggers.CreateLogger(categoryName);
    }
}
