using System.Diagnostics;
using System.Globalization;
using System.Text;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.Log.Telemetry;
using FaasEvents.Samples;
using FaasEvents.Server;
using FaasEvents.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace FaasEvents.Functions.Tests.Telemetry;

/// <summary>
/// One HTTP ingress request followed through the sample pipeline (ingress -> orders -> order-enrich -> orders.enriched
/// -> shipping) is one connected trace: every span descends from the request's own traceparent, each process span is
/// the child of the span its event was created in, and the events in the log carry that context (in-memory exporter).
/// </summary>
public sealed class ConnectedTraceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": { "maxBatchSize": 10, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050" } } }
        """;

    [Fact]
    public async Task An_ingress_request_through_two_functions_is_one_connected_trace()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = 2 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders.enriched", Partitions = 2 });
        var spans = new List<Activity>();
        using TracerProvider tracing = Sdk.CreateTracerProviderBuilder().AddSource(FaasTelemetry.Name).AddAspNetCoreInstrumentation().AddInMemoryExporter(spans).Build();

        (int http, int grpc) = AzuriteProcess.GetFreePorts(2) is [var h, var g] ? (h, g) : throw new InvalidOperationException("two ports");
        await using WebApplication server = ServerApp.Build(["--http-port", http.ToString(CultureInfo.InvariantCulture), "--grpc-port", grpc.ToString(CultureInfo.InvariantCulture), $"--FAAS_STORAGE={azurite.ConnectionString}", $"--FAAS_CONTAINER={log.Container.Name}", "--Logging:LogLevel:Default=Warning"]);
        await server.StartAsync();
        string hostJson = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(hostJson, HostJson);
        FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(["--port", "0", "--host-json", hostJson, "--instance-id", "trace", "--functions", "order-enrich,shipping"]);
        builder.Configuration["FAAS_STORAGE"] = azurite.ConnectionString;
        builder.Configuration["FAAS_CONTAINER"] = log.Container.Name;
        builder.Services.AddSingleton<TaxRates>();
        builder.AddFunctions(typeof(OrderFunctions));
        await using FunctionsApp app = builder.Build();
        await app.StartAsync();

        // The caller's own trace: everything the request causes must belong to it.
        ActivityTraceId trace = ActivityTraceId.CreateRandom();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/streams/orders/events")
        {
            Content = new StringContent("""{"orderId":"o-traced","customer":"eu-1","amount":100}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-id", "o-traced");
        request.Headers.Add("ce-source", "/tests/trace");
        request.Headers.Add("ce-type", "com.example.order.created");
        request.Headers.Add("ce-partitionkey", "eu-1");
        request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        (await client.SendAsync(request)).EnsureSuccessStatusCode();

        Activity? Span(string name, string? function = null)
        {
            lock (spans)
            {
                return spans.FirstOrDefault(s => s.TraceId == trace && s.DisplayName == name && (function is null || (string?)s.GetTagItem(MessagingAttributes.FunctionName) == function));
            }
        }

        await AppHarness.WaitUntilAsync(() => Span("process orders.enriched", "shipping") is not null, "shipping processed the enriched order in the request's trace", 60);
        await app.StopAsync();
        await server.StopAsync();
        tracing.ForceFlush();

        Activity ingress = Assert.Single(spans.Where(s => s.TraceId == trace && s.Kind == ActivityKind.Server && s.DisplayName.StartsWith("POST", StringComparison.Ordinal)).ToList());
        Activity send = Span("send orders")!;
        Activity enrich = Span("process orders", "order-enrich")!;
        Activity sendEnriched = Span("send orders.enriched")!;
        Activity ship = Span("process orders.enriched", "shipping")!;
        Assert.All(new[] { send, enrich, sendEnriched, ship }, Assert.NotNull);

        Assert.Equal(ingress.SpanId, send.ParentSpanId); // the ingress's append is part of the request
        Assert.Equal(ActivityKind.Producer, send.Kind);
        Assert.Equal(send.SpanId, enrich.ParentSpanId); // the handler continues the context its event was created in
        Assert.Equal(ActivityKind.Consumer, enrich.Kind);
        Assert.Equal(enrich.SpanId, ship.ParentSpanId); // the output was created in order-enrich's invocation
        Assert.Equal(enrich.SpanId, sendEnriched.ParentSpanId); // and the runtime's append of it continues there too
        Assert.Contains(ship.Links, l => l.Context.SpanId == enrich.SpanId);

        Assert.Equal("faasevents", enrich.GetTagItem(MessagingAttributes.System));
        Assert.Equal("orders", enrich.GetTagItem(MessagingAttributes.DestinationName));
        Assert.Equal("order-enrich", enrich.GetTagItem(MessagingAttributes.ConsumerGroup));
        Assert.Equal("o-traced", enrich.GetTagItem(MessagingAttributes.MessageId));
        Assert.Equal("eu-1", enrich.GetTagItem(MessagingAttributes.MessageKey));
        Assert.NotNull(enrich.GetTagItem(MessagingAttributes.PartitionId));
        Assert.NotNull(enrich.GetTagItem(MessagingAttributes.Offset));

        // What carried the context: the events themselves (CloudEvents distributed-tracing extension).
        StoredEvent stored = await FirstAsync(log, "orders");
        Assert.True(EventTraceContext.TryExtract(stored.Event, out ActivityContext created));
        Assert.Equal(send.SpanId, created.SpanId);
        StoredEvent output = await FirstAsync(log, "orders.enriched");
        Assert.True(EventTraceContext.TryExtract(output.Event, out ActivityContext made));
        Assert.Equal(trace, made.TraceId);
        Assert.Equal(enrich.SpanId, made.SpanId);
    }

    private static async Task<StoredEvent> FirstAsync(EventLogClient log, string stream)
    {
        foreach (PartitionInfo p in (await log.GetPartitionsAsync(stream)).Where(p => p.EndOffset > p.EarliestOffset))
        {
            await foreach (StoredEvent e in log.ReadPartitionAsync(stream, p.Partition, new ReadOptions { From = StartPosition.Earliest }))
            {
                return e;
            }
        }

        throw new InvalidOperationException($"{stream} is empty");
    }
}
