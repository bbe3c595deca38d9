using FaasEvents.Log.Consumers;
using FaasEvents.Server.Scaling.Grpc;
using Grpc.Core;

namespace FaasEvents.Server.Scaling;

/// <summary>KEDA's <c>externalscaler.ExternalScaler</c> over consumer-group lag.</summary>
public sealed class ExternalScalerService : ExternalScaler.ExternalScalerBase
{
    private readonly LagService lag;
    private readonly ServerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger<ExternalScalerService> logger;
    private readonly ScaledObjectRegistry registry;

    /// <summary>Creates the service.</summary>
    public ExternalScalerService(LagService lag, ServerOptions options, TimeProvider time, ILogger<ExternalScalerService> logger, ScaledObjectRegistry registry)
    {
        this.registry = registry;
        this.lag = lag;
        this.options = options;
        this.time = time;
        this.logger = logger;
    }

    /// <inheritdoc/>
    public override async Task<IsActiveResponse> IsActive(ScaledObjectRef request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        ScalerMetadata m = ScalerMetadata.Parse(request.ScalerMetadata);
        LagReport report = await lag.GetLagAsync(m.Stream, m.ConsumerGroup, m.InitialOffset, m.Queue, context.CancellationToken);
        registry.Seen(request, m, report);
        return new IsActiveResponse { Result = m.IsActive(report) };
    }

    /// <inheritdoc/>
    public override async Task StreamIsActive(ScaledObjectRef request, IServerStreamWriter<IsActiveResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        ScalerMetadata m = ScalerMetadata.Parse(request.ScalerMetadata);
        CancellationToken ct = context.CancellationToken;
        bool? last = null;
        logger.LogInformation("StreamIsActive opened for {Name} ({Stream}/{Group})", request.Name, m.Stream, m.ConsumerGroup);
        while (!ct.IsCancellationRequested)
        {
            // Arm the ingress signal before reading lag, so an append in between is not missed.
            Task appended = lag.NextAppend(m.Stream);
            LagReport report = await lag.GetLagAsync(m.Stream, m.ConsumerGroup, m.InitialOffset, m.Queue, ct);
            registry.Seen(request, m, report);
            bool active = m.IsActive(report);
            if (active != last)
            {
                await responseStream.WriteAsync(new IsActiveResponse { Result = active }, ct);
                last = active;
            }

            await SignalWait.FirstAsync(appended, options.ActivePollInterval, time, ct); // this runs every 400 ms for as long as KEDA keeps the call open, for days
        }
    }

    /// <inheritdoc/>
    public override Task<GetMetricSpecResponse> GetMetricSpec(ScaledObjectRef request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(Spec(ScalerMetadata.Parse(request.ScalerMetadata)));
    }

    /// <inheritdoc/>
    public override async Task StreamMetricSpec(ScaledObjectRef request, IServerStreamWriter<GetMetricSpecResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);

        // The target (lagThreshold) comes from the ScaledObject and never changes for a given stream: send it at once,
        // identical to GetMetricSpec, and hold the stream open until KEDA closes it.
        await responseStream.WriteAsync(Spec(ScalerMetadata.Parse(request.ScalerMetadata)), context.CancellationToken);
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, time, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc/>
    public override async Task<GetMetricsResponse> GetMetrics(GetMetricsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        ScalerMetadata m = ScalerMetadata.Parse(request.ScaledObjectRef?.ScalerMetadata ?? throw new ScalerMetadataException("scaledObjectRef is required"));
        LagReport report = await lag.GetLagAsync(m.Stream, m.ConsumerGroup, m.InitialOffset, m.Queue, context.CancellationToken);
        registry.Seen(request.ScaledObjectRef, m, report);
        long value = m.Metric(report);
        return new GetMetricsResponse
        {
            MetricValues = { new MetricValue { MetricName = string.IsNullOrEmpty(request.MetricName) ? m.MetricName : request.MetricName, MetricValue_ = value, MetricValueFloat = value } },
        };
    }

    private static GetMetricSpecResponse Spec(ScalerMetadata m) => new()
    {
        MetricSpecs = { new MetricSpec { MetricName = m.MetricName, TargetSize = m.LagThreshold, TargetSizeFloat = m.LagThreshold } },
    };
}
