using System.Collections.Concurrent;
using System.Diagnostics;
using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// A partition taken to balance load changes hands without overlap (issue 12, defect 10): at most one instance invokes
/// per partition at a time, and the new owner starts where the old one stopped.
/// </summary>
public class HandoverTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 10, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050" } } }
        """;

    /// <summary>Which app instance an invocation ran in.</summary>
    public sealed record Tag(string Name);

    public sealed record Invocation(string Instance, int Partition, long Offset, long Start, long End);

    public static class Functions
    {
        public static ConcurrentBag<Invocation> Invocations { get; } = [];

        [Function("ho-fn")]
        public static async Task Handle([EventTrigger("ho-in")] CloudEvent e, FunctionContext context, Tag tag)
        {
            long start = Stopwatch.GetTimestamp();
            await Task.Delay(20, CancellationToken.None);
            Invocations.Add(new Invocation(tag.Name, context.Partition, context.Offset, start, Stopwatch.GetTimestamp()));
        }
    }

    [Fact]
    public async Task A_stolen_partition_is_never_invoked_by_two_instances_at_once_and_no_event_is_handled_twice()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ho-in", Partitions = 2 });
        const int PerPartition = 300;
        await using (EventProducerClient producer = log.CreateProducer("ho-in"))
        {
            for (int p = 0; p < 2; p++)
            {
                await producer.SendBatchAsync(Enumerable.Range(0, PerPartition).Select(i => TestEvents.Json($"p{p}-{i}")), p);
            }
        }

        await using FunctionsApp a = AppHarness.Build(azurite, log, typeof(Functions), HostJson, b => b.Services.AddSingleton(new Tag("A")));
        await a.StartAsync();
        await AppHarness.WaitUntilAsync(() => Functions.Invocations.Count(i => i.Instance == "A") >= 2 * 20 && Functions.Invocations.Where(i => i.Instance == "A").Select(i => i.Partition).Distinct().Count() == 2, "A handling both partitions", 60);

        await using FunctionsApp b = AppHarness.Build(azurite, log, typeof(Functions), HostJson, s => s.Services.AddSingleton(new Tag("B")));
        await b.StartAsync(); // B takes one partition from A to balance load
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("ho-in", "ho-fn")).TotalLag == 0, "the backlog handled", 120);
        await b.StopAsync();
        await a.StopAsync();

        List<Invocation> all = [.. Functions.Invocations];
        Assert.Contains(all, i => i.Instance == "B"); // a handover happened
        var overlaps = new List<string>();
        foreach (IGrouping<int, Invocation> partition in all.GroupBy(i => i.Partition))
        {
            List<Invocation> byStart = [.. partition.OrderBy(i => i.Start)];
            for (int i = 1; i < byStart.Count; i++)
            {
                long latestEnd = byStart.Take(i).Max(x => x.End);
                if (byStart[i].Start < latestEnd)
                {
                    overlaps.Add($"partition {partition.Key}: {byStart[i].Instance} started offset {byStart[i].Offset} while another invocation was running");
                }
            }
        }

        var duplicates = all.GroupBy(i => (i.Partition, i.Offset)).Where(g => g.Count() > 1).Select(g => $"p{g.Key.Partition}@{g.Key.Offset} x{g.Count()} ({string.Join("", g.Select(x => x.Instance))})").ToList();
        var missing = Enumerable.Range(0, 2).SelectMany(p => Enumerable.Range(0, PerPartition).Select(o => (p, (long)o))).Except(all.Select(i => (i.Partition, i.Offset))).ToList();
        output.WriteLine($"{all.Count} invocations (A {all.Count(i => i.Instance == "A")}, B {all.Count(i => i.Instance == "B")}); overlapping: {overlaps.Count}; handled twice: {duplicates.Count}; missing: {missing.Count}");
        Assert.Empty(missing);
        Assert.True(overlaps.Count == 0, string.Join("\n", overlaps.Take(5)));
        Assert.True(duplicates.Count == 0, "handled twice: " + string.Join(", ", duplicates.Take(10)));
    }

    public static class Stuck
    {
        public static ConcurrentBag<(string Instance, long Start, long End, bool Cancelled)> Runs { get; } = [];

        [Function("ho-stuck")]
        public static async Task Handle([EventTrigger("ho-stuck-in")] CloudEvent e, Tag tag, CancellationToken cancellationToken)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await Task.Delay(tag.Name == "A" ? Timeout.Infinite : 10, cancellationToken); // A's invocation never returns on its own
                Runs.Add((tag.Name, start, Stopwatch.GetTimestamp(), false));
            }
            catch (OperationCanceledException)
            {
                Runs.Add((tag.Name, start, Stopwatch.GetTimestamp(), true));
                throw;
            }
        }
    }

    [Fact]
    public async Task An_owner_handing_over_whose_invocation_outlives_its_lease_is_cancelled_before_the_next_owner_invokes()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "ho-stuck-in", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("ho-stuck-in"))
        {
            await producer.SendAsync(TestEvents.Json("s0"), 0);
            await producer.SendAsync(TestEvents.Json("s1"), 1);
        }

        await using FunctionsApp a = AppHarness.Build(azurite, log, typeof(Stuck), HostJson, b => b.Services.AddSingleton(new Tag("A")));
        await a.StartAsync();
        await AppHarness.WaitUntilAsync(async () => (await log.CreateLeaseClient("observer").ListOwnershipAsync("ho-stuck", "ho-stuck-in")).Count(o => o.IsLeased) == 2, "A owning both partitions", 60);
        await using FunctionsApp b = AppHarness.Build(azurite, log, typeof(Stuck), HostJson, s => s.Services.AddSingleton(new Tag("B")));
        await b.StartAsync(); // asks A for one partition; A's invocation there never returns
        await AppHarness.WaitUntilAsync(() => Stuck.Runs.Any(r => r.Instance == "B"), "B invoking the partition it was handed", 90);
        await b.StopAsync();
        using (var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await a.StopAsync(budget.Token); // A's other partition is stuck too: a short shutdown budget cuts it
        }

        (string Instance, long Start, long End, bool Cancelled) first = Stuck.Runs.Where(r => r.Instance == "B").MinBy(r => r.Start);
        (string Instance, long Start, long End, bool Cancelled)[] cutOff = [.. Stuck.Runs.Where(r => r.Instance == "A" && r.Cancelled)];
        Assert.NotEmpty(cutOff); // A's invocation was told once its lease ran out unrenewed
        Assert.True(cutOff.Min(r => r.End) <= first.Start, "B invoked while A's invocation of the same partition was still running");
    }
}
