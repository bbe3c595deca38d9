using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;

namespace FaasEvents.TestSupport.Faults;

/// <summary>
/// Injects storage faults between the Azure SDK and storage, as an HTTP pipeline policy placed per retry (so the
/// SDK's own retries see them too, as they would see a real fault). Two ways to fault: <see cref="Once"/> arms a
/// fault for the next request(s) of one operation (optionally matching a predicate); <see cref="Random"/> faults a
/// share of all requests (writes only unless told otherwise) with a kind drawn from its mix.
/// Every fault injected is counted by operation and kind (<see cref="Injected"/>).
/// </summary>
public sealed class StorageFaultInjector : HttpPipelinePolicy
{
    private readonly ConcurrentQueue<Armed> armed = new();
    private readonly ConcurrentQueue<HeldRequest> held = new();
    private readonly ConcurrentQueue<Hook> hooks = new();
    private readonly HttpClient late = new();
    public StorageFaultInjector(int seed = 1) => Random = new FaultMix(seed);

    /// <summary>Random faults by rate (off until <see cref="FaultMix.Rate"/> is set).</summary>
    public FaultMix Random { get; }

    /// <summary>Only requests this accepts get random faults (null = all).</summary>
    public Func<Request, bool>? RateFilter { get; set; }

    /// <summary>How long a <see cref="FaultKind.Delay"/> holds a request.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Faults injected so far, keyed "operation/kind".</summary>
    public IReadOnlyDictionary<string, int> Injected => Random.Injected;

    /// <summary>Total faults injected so far.</summary>
    public int Total => Random.Total;

    /// <summary>Storage options with this injector attached and the SDK's retries set to <paramref name="sdkRetries"/> fast tries.</summary>
    public BlobClientOptions CreateOptions(int sdkRetries = 3)
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = sdkRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(200);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        options.AddPolicy(this, HttpPipelinePosition.PerRetry);
        return options;
    }

    /// <summary>Arms <paramref name="kind"/> for the next <paramref name="times"/> requests of <paramref name="operation"/> that <paramref name="where"/> accepts.</summary>
    public void Once(string operation, FaultKind kind, Func<Request, bool>? where = null, int times = 1) =>
        armed.Enqueue(new Armed(operation, kind, where, times));

    /// <summary>Arms a made-up error answer (e.g. 409 BlockCountExceedsLimit) for the next request of <paramref name="operation"/>, without forwarding it.</summary>
    public void OnceAnswer(string operation, int status, string errorCode, Func<Request, bool>? where = null) =>
        armed.Enqueue(new Armed(operation, null, where, 1) { Status = status, ErrorCode = errorCode });

    /// <summary>
    /// Runs <paramref name="action"/> once, right after the next request of <paramref name="operation"/> that <paramref name="where"/>
    /// accepts reached storage (before its caller sees the answer, or the fault that replaced it).
    /// </summary>
    public void After(string operation, Func<Task> action, Func<Request, bool>? where = null) =>
        hooks.Enqueue(new Hook(operation, where, action));

    /// <summary>Sends every request held by <see cref="FaultKind.LateLanding"/>; returns their status codes.</summary>
    public async Task<IReadOnlyList<int>> LandHeldAsync()
    {
        var statuses = new List<int>();
        while (held.TryDequeue(out HeldRequest? h))
        {
            using var request = new HttpRequestMessage(new HttpMethod(h.Method), h.Uri) { Content = new ByteArrayContent(h.Body) };
            foreach ((string name, string value) in h.Headers)
            {
                if (!request.Headers.TryAddWithoutValidation(name, value))
                {
                    request.Content.Headers.TryAddWithoutValidation(name, value);
                }
            }

            using HttpResponseMessage response = await late.SendAsync(request).ConfigureAwait(false);
            statuses.Add((int)response.StatusCode);
        }

        return statuses;
    }

    /// <summary>Disarms every pending targeted fault and stops random ones.</summary>
    public void Clear()
    {
        armed.Clear();
        Random.Rate = 0;
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        string operation = StorageOperation.Of(message.Request);
        Armed? fault = Take(operation, message.Request);
        if (fault is null)
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            await RunHooksAsync(operation, message.Request).ConfigureAwait(false);
            return;
        }

        Random.Count(operation, fault.Name);
        if (fault.Kind is null)
        {
            message.Response = new InjectedResponse(fault.Status, fault.ErrorCode!, message.Request.ClientRequestId);
            return;
        }

        switch (fault.Kind.Value)
        {
            case FaultKind.Refuse503:
                message.Response = new InjectedResponse(503, "ServerBusy", message.Request.ClientRequestId);
                return;
            case FaultKind.ResetBeforeSend:
                throw new HttpRequestException($"Injected fault: connection reset before {operation} was sent.", new IOException("Connection reset by peer"));
            case FaultKind.DropResponse:
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
                await RunHooksAsync(operation, message.Request).ConfigureAwait(false);
                throw new IOException($"Injected fault: {operation} reached storage (status {message.Response.Status}) but its response was lost.");
            case FaultKind.ForwardThen500:
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
                await RunHooksAsync(operation, message.Request).ConfigureAwait(false);
                message.Response.Dispose();
                message.Response = new InjectedResponse(500, "InternalError", message.Request.ClientRequestId);
                return;
            case FaultKind.LateLanding:
                held.Enqueue(await HeldRequest.CaptureAsync(message.Request, message.CancellationToken).ConfigureAwait(false));
                throw new TaskCanceledException($"Injected fault: {operation} timed out on the client; the request is still on its way to storage.");
            default:
                await Task.Delay(Delay, message.CancellationToken).ConfigureAwait(false);
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
                return;
        }
    }

    private async Task RunHooksAsync(string operation, Request request)
    {
        foreach (Hook h in hooks)
        {
            if (h.Operation == operation && (h.Where is null || h.Where(request)) && h.TryUse())
            {
                await h.Action().ConfigureAwait(false);
            }
        }
    }

    private Armed? Take(string operation, Request request)
    {
        foreach (Armed a in armed)
        {
            if (a.Operation == operation && (a.Where is null || a.Where(request)) && a.TryUse())
            {
                return a;
            }
        }

        if (RateFilter is { } filter && !filter(request))
        {
            return null;
        }

        return Random.Roll(StorageOperation.IsWrite(request)) is { } kind ? new Armed(operation, kind, null, 1) : null;
    }

    private sealed class Armed(string operation, FaultKind? kind, Func<Request, bool>? where, int times)
    {
        private int left = times;

        public string Operation { get; } = operation;

        /// <summary>The fault, or null for a made-up answer (<see cref="Status"/>, <see cref="ErrorCode"/>).</summary>
        public FaultKind? Kind { get; } = kind;

        public int Status { get; init; }

        public string? ErrorCode { get; init; }

        public string Name => Kind?.ToString() ?? $"{Status}{ErrorCode}";

        public Func<Request, bool>? Where { get; } = where;

        public bool TryUse() => Interlocked.Decrement(ref left) >= 0;
    }

    private sealed class Hook(string operation, Func<Request, bool>? where, Func<Task> action)
    {
        private int used;

        public string Operation { get; } = operation;

        public Func<Request, bool>? Where { get; } = where;

        public Func<Task> Action { get; } = action;

        public bool TryUse() => Interlocked.Exchange(ref used, 1) == 0;
    }

    private sealed record HeldRequest(string Method, Uri Uri, List<(string Name, string Value)> Headers, byte[] Body)
    {
        public static async Task<HeldRequest> CaptureAsync(Request request, CancellationToken cancellationToken)
        {
            var body = new MemoryStream();
            if (request.Content is { } content)
            {
                await content.WriteToAsync(body, cancellationToken).ConfigureAwait(false);
            }

            return new HeldRequest(request.Method.Method, request.Uri.ToUri(), [.. request.Headers.Select(h => (h.Name, h.Value))], body.ToArray());
        }
    }
}
