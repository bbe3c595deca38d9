using FaasEvents.Log;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace FaasEvents.Server.Scaling;

/// <summary>Maps errors to gRPC status codes: bad metadata → InvalidArgument, unknown stream → NotFound, cancellation → Cancelled.</summary>
public sealed class ScalerErrorInterceptor : Interceptor
{
    private readonly ILogger<ScalerErrorInterceptor> logger;

    /// <summary>Creates the interceptor.</summary>
    public ScalerErrorInterceptor(ILogger<ScalerErrorInterceptor> logger) => this.logger = logger;

    /// <inheritdoc/>
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    /// <inheritdoc/>
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    private RpcException? Map(Exception ex, ServerCallContext context)
    {
        if (ex is RpcException)
        {
            return null;
        }

        RpcException rpc = ex switch
        {
            ScalerMetadataException m => new RpcException(new Status(StatusCode.InvalidArgument, m.Message)),
            EventLogException { Reason: EventLogErrorReason.StreamNotFound } e => new RpcException(new Status(StatusCode.NotFound, e.Message)),
            EventLogException { Reason: EventLogErrorReason.InvalidArgument } e => new RpcException(new Status(StatusCode.InvalidArgument, e.Message)),
            OperationCanceledException when context.CancellationToken.IsCancellationRequested => new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled.")),
            _ => new RpcException(new Status(StatusCode.Unavailable, "The scaler could not read storage: " + ex.Message.Split('\n')[0])),
        };
        if (rpc.StatusCode == StatusCode.Unavailable)
        {
            logger.LogError(ex, "Scaler call {Method} failed", context.Method);
        }

        return rpc;
    }
}
