using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using FaasEvents.DevStorage;
using FaasEvents.Functions.Telemetry;
using FaasEvents.Log.Telemetry;

namespace FaasEvents.Functions.Tests.Telemetry;

/// <summary>
/// infra/grafana/faasevents-dashboard.json is valid JSON, every metric its queries use is one the code emits (meter
/// <see cref="FaasTelemetry.Name"/>, in the names the Prometheus exporter gives it), and every metric the code emits
/// is on it.
/// </summary>
public sealed partial class DashboardTests
{
    [Fact]
    public void The_dashboard_queries_exactly_the_metrics_the_code_emits()
    {
        string path = Path.Combine(AzuriteProcess.FindRepositoryRoot()!, "infra", "grafana", "faasevents-dashboard.json");
        using JsonDocument dashboard = JsonDocument.Parse(File.ReadAllText(path));
        List<string> queries = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.NotEmpty(queries);
        HashSet<string> used = queries.Select(q => Grouping().Replace(q, "")).SelectMany(q => MetricName().Matches(q).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

        Dictionary<string, string[]> emitted = EmittedPrometheusNames();
        HashSet<string> series = emitted.Values.SelectMany(s => s).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(used.Except(series).Order()); // a query on a metric nobody emits shows nothing, forever
        Assert.Empty(emitted.Where(kv => !kv.Value.Any(used.Contains)).Select(kv => kv.Key).Order()); // an emitted metric missing from the dashboard
    }

    /// <summary>Each instrument of the FaasEvents meter, with the Prometheus series names the OpenTelemetry exporter serves it as.</summary>
    private static Dictionary<string, string[]> EmittedPrometheusNames()
    {
        RuntimeHelpers.RunClassConstructor(typeof(FunctionInstruments).TypeHandle);
        RuntimeHelpers.RunClassConstructor(Type.GetType("FaasEvents.Server.Telemetry.ServerInstruments, FaasEvents.Server", throwOnError: true)!.TypeHandle);
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == FaasTelemetry.Name)
                {
                    lock (instruments)
                    {
                        instruments.Add(instrument);
                    }
                }
            },
        };
        listener.Start();
        Assert.Contains(instruments, i => i.Name == "faas.function.wake.latency");
        Assert.Contains(instruments, i => i.Name == "faas.consumer.lag");
        return instruments.DistinctBy(i => i.Name).ToDictionary(i => i.Name, Prometheus);
    }

    /// <summary>The exporter's naming: dots to underscores, a unit suffix (braced units have none), counters end in _total, histograms are three series.</summary>
    private static string[] Prometheus(Instrument instrument)
    {
        string name = instrument.Name.Replace('.', '_');
        if (instrument.Unit == "s" && !name.EndsWith("_seconds", StringComparison.Ordinal))
        {
            name += "_seconds";
        }

        Type type = instrument.GetType().GetGenericTypeDefinition();
        if (type == typeof(Counter<>) || type == typeof(ObservableCounter<>))
        {
            return [name + "_total"];
        }

        return type == typeof(Histogram<>) ? [name + "_bucket", name + "_sum", name + "_count"] : [name];
    }

    [GeneratedRegex(@"\b(faas|messaging)_[a-z0-9_]+\b(?=\s*[\{\[\)])")]
    private static partial Regex MetricName();

    /// <summary>A <c>by (labels)</c> clause: label names, not metrics.</summary>
    [GeneratedRegex(@"\bby\s*\([^)]*\)")]
    private static partial Regex Grouping();
}
