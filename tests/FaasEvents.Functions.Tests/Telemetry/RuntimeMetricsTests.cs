using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FaasEvents.Functions.Tests.Runtime;
using FaasEvents.Log.Events;
using FaasEvents.Log.Telemetry;

namespace FaasEvents.Functions.Tests.Telemetry;

/// <summary>
/// The metrics no anchor has, measured on a running app (in-memory log, the runtime's fake clock): the age of the
/// oldest unhandled event grows while a handler holds it and is 0 once caught up; an event appended to an idle
/// partition records a warm wake latency; retries and the outcome of each invocation are recorded.
/// </summary>
public sealed class RuntimeMetricsTests : IAsyncLifetime
{
    private readonly InMemoryRuntime runtime = new();

    public sealed record Item(string Id);

    public static class WakeFunctions
    {
        public static SemaphoreSlim Entered { get; } = new(0);

        public static SemaphoreSlim Gate { get; } = new(0);

        [Function("rm-wake")]
        public static async Task Run([EventTrigger("rm-in")] Item item)
        {
            if (item.Id == "slow")
            {
                Entered.Release();
                await Gate.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await runtime.DisposeAsync();

    [Fact]
    public async Task Lag_age_grows_while_an_event_waits_and_an_idle_partition_records_its_wake()
    {
        var measured = new ConcurrentQueue<(string Instrument, double Value, string? Kind)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == FaasTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? function = null, kind = null;
            foreach (KeyValuePair<string, object?> t in tags)
            {
                function = t.Key == MessagingAttributes.FunctionName ? t.Value as string : function;
                kind = t.Key == "faas.wake.kind" ? t.Value as string : kind;
            }

            if (function == "rm-wake")
            {
                measured.Enqueue((instrument.Name, value, kind));
            }
        }

        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        double[] Ages()
        {
            measured.Clear();
            listener.RecordObservableInstruments();
            return measured.Where(m => m.Instrument == "faas.function.partition.lag.age").Select(m => m.Value).ToArray();
        }

        runtime.Log.CreateStream("rm-in", 1);
        await using FunctionsApp app = AppHarness.BuildInMemory(runtime, typeof(WakeFunctions), configure: b => b.Services.AddFake(runtime.Time));
        await app.StartAsync();
        await AppHarness.WaitUntilAsync(() => Ages() is [0], "the partition runs and reports a zero age (nothing waiting)");

        runtime.Log.Append("rm-in", [Event("slow")]);
        Assert.True(await WakeFunctions.Entered.WaitAsync(TimeSpan.FromSeconds(30)), "the handler started");
        await AppHarness.WaitUntilAsync(() => Ages() is [> 1], "the held event's age grows (the fake clock runs 50x)");
        WakeFunctions.Gate.Release();
        await AppHarness.WaitUntilAsync(() => Ages() is [0], "caught up: age 0 again");

        measured.Clear();
        runtime.Log.Append("rm-in", [Event("after-idle")]);
        await AppHarness.WaitUntilAsync(() => measured.Any(m => m.Instrument == "messaging.process.duration"), "the next event was invoked");
        (string _, double latency, string? kind) = Assert.Single(measured, m => m.Instrument == "faas.function.wake.latency");
        Assert.Equal("warm", kind);
        Assert.True(latency >= 0);
        measured.Clear();
        listener.RecordObservableInstruments();
        Assert.Contains(measured, m => m.Instrument == "faas.function.events.handled" && m.Value == 2); // cumulative: the slow one and this one
        await app.StopAsync();
    }

    private static LogEvent Event(string id) => new(id, "/tests", "item") { DataContentType = "application/json", Data = BinaryData.FromObjectAsJson(new Item(id)) };
}
