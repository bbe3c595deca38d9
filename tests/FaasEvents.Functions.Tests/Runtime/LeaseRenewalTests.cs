using CloudNative.CloudEvents;
using FaasEvents.Functions.Runtime;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using Microsoft.Extensions.DependencyInjection;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>Lease renewal under storage errors: one bad partition never costs the others their leases (invariant 8).</summary>
public class LeaseRenewalTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    public static class Functions
    {
        [Function("lr-fn")]
        public static void Handle([EventTrigger("lr-in")] CloudEvent e)
        {
        }
    }

    [Theory]
    [InlineData(0)] // each partition once: the one renewed first and the one renewed after it
    [InlineData(1)]
    public async Task A_failing_renewal_of_one_partition_keeps_the_others_renewed_and_stops_its_processor_at_local_expiry(int bad)
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "lr-in", Partitions = 2 });
        var faults = new StorageFaultInjector();
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions), configure: b => b.Services.AddSingleton(faults.CreateOptions(sdkRetries: 0)));
        await app.StartAsync();
        PartitionBalancer balancer = app.Services.GetRequiredService<FunctionsRuntime>().Balancers.Single();
        await AppHarness.WaitUntilAsync(() => balancer.Owned.Count == 2, "the instance owns both partitions");

        // From now on every lease request on the bad partition fails with 503 (renewals and re-acquisitions alike).
        int good = 1 - bad;
        bool Bad(Azure.Core.Request r) => r.Uri.Path.EndsWith($"/groups/lr-fn/lr-in/{bad}", StringComparison.Ordinal);
        faults.Once(StorageOperation.RenewLease, FaultKind.Refuse503, Bad, times: int.MaxValue);
        faults.Once(StorageOperation.AcquireLease, FaultKind.Refuse503, Bad, times: int.MaxValue);

        // Past the 15 s lease: the good partition was renewed throughout, the bad one's processor stopped by itself.
        await Task.Delay(TimeSpan.FromSeconds(18));
        IReadOnlyList<PartitionOwnership> ownership = await log.CreateLeaseClient("observer").ListOwnershipAsync("lr-fn", "lr-in");
        Assert.True(ownership.Single(o => o.Partition == good).IsLeased, $"partition {good}'s lease lapsed: its renewal was skipped after partition {bad}'s failed");
        Assert.Equal([good], balancer.Owned);
        Assert.True(faults.Total > 5, $"renewals of partition {bad} were attempted and failed ({faults.Total})");
        await app.StopAsync();
    }
}
