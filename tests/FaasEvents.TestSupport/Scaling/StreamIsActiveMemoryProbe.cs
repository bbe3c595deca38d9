using FaasEvents.Log;
using FaasEvents.Server;
using FaasEvents.Server.Scaling;
using FaasEvents.Server.Scaling.Grpc;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaasEvents.TestSupport.Scaling;

/// <summary>What one open StreamIsActive call did to the managed heap over simulated time.</summary>
/// <param name="HeapBefore">Bytes after the warm-up (full collection).</param>
/// <param name="HeapAfter">Bytes after the measured span (full collection).</param>
/// <param name="Checks">Lag checks the call made in the measured span.</param>
/// <param name="Answers">What the call wrote over its whole life.</param>
public sealed record StreamIsActiveMemory(long HeapBefore, long HeapAfter, int Checks, IReadOnlyList<bool> Answers)
{
    /// <summary>Growth over the measured span in MiB.</summary>
    public double GrownMiB => (HeapAfter - HeapBefore) / 1048576.0;
}

/// <summary>
/// Holds one StreamIsActive call open (as KEDA does, for days) on a clock the probe moves check by check, on a stream
/// nobody appends to through this server, and measures the managed heap: the call must leave nothing behind per check.
/// </summary>
public static class StreamIsActiveMemoryProbe
{
    public static async Task<StreamIsActiveMemory> MeasureAsync(EventLogClient log, string stream, TimeSpan warmUp, TimeSpan span, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var time = new SteppedTime();
        var options = new ServerOptions { LagCacheDuration = span * 2 + warmUp * 2 }; // lag is read once: this measures the call, not storage
        var scaler = new ExternalScalerService(new LagService(log, time, options), options, time, NullLogger<ExternalScalerService>.Instance, new ScaledObjectRegistry(time));
        using var call = new CancellationTokenSource();
        var writer = new CollectingWriter<IsActiveResponse>();
        var request = new ScaledObjectRef { Name = "probe", Namespace = "default" };
        request.ScalerMetadata.Add(new MapField<string, string> { ["stream"] = stream, ["consumerGroup"] = "probe" });
        Task open = Task.Run(() => scaler.StreamIsActive(request, writer, new TestCallContext(call.Token)), cancellationToken);

        await CheckAsync(time, options.ActivePollInterval, (int)(warmUp / options.ActivePollInterval), cancellationToken); // caches, JIT, pools
        long before = GC.GetTotalMemory(forceFullCollection: true);
        int checks = (int)(span / options.ActivePollInterval);
        await CheckAsync(time, options.ActivePollInterval, checks, cancellationToken);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        await call.CancelAsync();
        await open;
        return new StreamIsActiveMemory(before, after, checks, [.. writer.Written.Select(w => w.Result)]);
    }

    /// <summary>Lets the call make <paramref name="checks"/> lag checks: each time it waits on its poll timer, that timer fires.</summary>
    private static async Task CheckAsync(SteppedTime time, TimeSpan interval, int checks, CancellationToken cancellationToken)
    {
        for (int i = 0; i < checks; i++)
        {
            await time.NextTimerAsync(cancellationToken);
            time.Advance(interval);
        }
    }
}
