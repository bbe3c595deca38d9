using FaasEvents.Server.Scaling.Grpc;
using Grpc.Core;

namespace FaasEvents.Cli.Dev;

/// <summary>
/// Plays KEDA locally: subscribes to StreamIsActive (wake from zero at once), polls IsActive/GetMetrics every
/// polling interval, applies <see cref="ScaleRules"/>, and asks for a replica count.
/// </summary>
internal sealed class Autoscaler
{
    private readonly ExternalScaler.ExternalScalerClient scaler;
    private readonly IReadOnlyList<ScaleTrigger> triggers;
    private readonly int maxReplicas;
    private readonly TimeSpan pollingInterval;
    private readonly TimeSpan cooldown;
    private readonly Func<int, Task> scaleTo;
    private readonly SemaphoreSlim wake = new(0);
    private DateTimeOffset lastActive = DateTimeOffset.MinValue;

    private readonly bool push;

    public Autoscaler(ExternalScaler.ExternalScalerClient scaler, IReadOnlyList<ScaleTrigger> triggers, int maxReplicas, TimeSpan pollingInterval, TimeSpan cooldown, Func<int, Task> scaleTo, bool push = true)
    {
        this.push = push;
        this.scaler = scaler;
        this.triggers = triggers;
        this.maxReplicas = maxReplicas;
        this.pollingInterval = pollingInterval;
        this.cooldown = cooldown;
        this.scaleTo = scaleTo;
    }

    public int Replicas { get; private set; }

    public IReadOnlyList<TriggerState> Last { get; private set; } = [];

    public string? LastError { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Task[] pushes = push ? triggers.Select(t => WatchAsync(t, cancellationToken)).ToArray() : [];
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RoundAsync(cancellationToken);
                LastError = null;
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                LastError = $"scaler: {ex.Status.StatusCode} {ex.Status.Detail}";
            }

            try
            {
                await wake.WaitAsync(pollingInterval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(pushes.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        var readings = new List<TriggerState>();
        foreach (ScaleTrigger t in triggers)
        {
            ScaledObjectRef r = t.ToRef();
            bool active = (await scaler.IsActiveAsync(r, cancellationToken: cancellationToken)).Result;
            long metric = (long)(await scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = r }, cancellationToken: cancellationToken)).MetricValues[0].MetricValueFloat;
            readings.Add(new TriggerState(t, active, metric, ScaleRules.DesiredFor(active, metric, t.LagThreshold)));
        }

        Last = readings;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (readings.Any(r => r.Active))
        {
            lastActive = now;
        }

        int next = ScaleRules.Decide(Replicas, readings, maxReplicas, now, lastActive, cooldown);
        if (next != Replicas)
        {
            await scaleTo(next);
            Replicas = next;
        }
    }

    /// <summary>external-push: a pushed 'true' starts a round at once instead of waiting for the polling interval.</summary>
    private async Task WatchAsync(ScaleTrigger t, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using AsyncServerStreamingCall<IsActiveResponse> call = scaler.StreamIsActive(t.ToRef(), cancellationToken: cancellationToken);
                while (await call.ResponseStream.MoveNext(cancellationToken))
                {
                    if (call.ResponseStream.Current.Result)
                    {
                        wake.Release();
                    }
                }
            }
            catch (RpcException) when (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(1000, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
