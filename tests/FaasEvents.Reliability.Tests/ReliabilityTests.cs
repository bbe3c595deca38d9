using FaasEvents.DevStorage;
using FaasEvents.Reliability.Scenarios;
using FaasEvents.TestSupport;
using Xunit.Abstractions;

namespace FaasEvents.Reliability.Tests;

/// <summary>
/// The fast part of the reliability suite (docs/reliability.md): each scenario at a few thousand events, with its
/// faults. Each reports load, faults, lost, duplicated, out of order; lost, out of order and reused must be 0.
/// </summary>
public class ReliabilityTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Limit => TestEvents.Timeout(600);

    [Fact]
    public async Task Racing_producers_under_5_percent_storage_faults_lose_reorder_and_reuse_nothing() =>
        Check(await RacingProducersScenario.RunAsync(Azurite, ScenarioSize.Quick, Limit));

    [Fact]
    public async Task Function_app_under_kill_9_and_3_percent_storage_faults_loses_nothing() =>
        Check(await KillsAndFaultsScenario.RunAsync(Azurite, ScenarioSize.Quick, Limit));

    /// <summary>Issue 13 at CI size: 10,000 orders, 3 instances of a copy, a 1:2 fan-out and a materializer, each killed once, one paused past its lease, 3% faults: every output once.</summary>
    [Fact]
    public async Task Exactly_once_pipeline_under_kill_9_SIGSTOP_and_faults_delivers_every_output_once() =>
        Check(await ExactlyOncePipelineScenario.RunAsync(Azurite, 10_000, 1, ScenarioSize.Quick.Drain, Limit));

    /// <summary>Issue 17 at CI size: 4,000 email jobs, 4 instances of a queue function on 2 partitions, kill -9, SIGSTOP past the locks, 3% faults.</summary>
    [Fact]
    public async Task Queue_consumption_under_kill_9_SIGSTOP_and_faults_loses_nothing_and_dead_letters_only_poison() =>
        Check(await QueueConsumptionScenario.RunAsync(Azurite, ScenarioSize.Quick, Limit));

    [Fact]
    public async Task Zombie_processor_after_SIGSTOP_past_its_lease_moves_no_checkpoint_back() =>
        Check(await ZombieScenario.RunProcessorAsync(Azurite, ScenarioSize.Quick, Limit));

    [Fact]
    public async Task Zombie_materializer_after_SIGSTOP_past_its_lease_leaves_table_and_changelog_exact() =>
        Check(await ZombieScenario.RunMaterializerAsync(Azurite, ScenarioSize.Quick, Limit));

    [Fact]
    public async Task Storage_hanging_and_restarting_mid_run_loses_nothing_and_needs_no_app_restart() =>
        Check(await StorageOutageScenario.RunAsync(AzuriteProcess.FindRepositoryRoot()!, ScenarioSize.Quick, Limit));

    [Fact]
    public async Task A_20_second_storage_outage_during_processing_reruns_no_handler_dead_letters_nothing_and_keeps_counts_exact() =>
        Check(await ProcessingOutageScenario.RunAsync(Azurite, ScenarioSize.Quick, Limit));

    [Fact]
    public async Task SIGTERM_under_load_exits_0_within_the_budget_and_hands_over_without_reruns() =>
        Check(await ShutdownUnderLoadScenario.RunAsync(Azurite, ScenarioSize.Quick, Limit));

    [Fact]
    public async Task Lag_reaches_zero_after_idle_for_every_checkpoint_setting() =>
        Check(await ScaleToZeroScenario.RunAsync(Azurite, ScenarioSize.Quick, Limit));

    [Fact]
    public async Task An_open_StreamIsActive_call_keeps_memory_flat_over_a_simulated_day() =>
        Check(await ScalerMemoryScenario.RunAsync(Azurite, Limit));

    [Fact]
    public async Task Malformed_events_through_ingress_and_cli_are_refused_with_a_reason_and_store_nothing()
    {
        ScenarioReport report = await BadInputScenario.RunAsync(Azurite, Limit);
        Check(report);
        Assert.Equal(0, report.AcceptedBadInputs);
        Assert.Equal(0, report.UnclearRefusals);
    }

    private AzuriteProcess Azurite => azurite.Process ?? throw new InvalidOperationException("The reliability scenarios need the npm Azurite (they signal its process); FAAS_TEST_AZURITE=docker cannot run them.");

    private void Check(ScenarioReport report)
    {
        output.WriteLine($"{report.Name}: {report.Load}; faults: {report.Faults}; lost {report.Lost}, duplicated {report.Duplicated}, out of order {report.OutOfOrder}, reused offsets/checkpoints back {report.ReusedOffsets}; {report.Notes}");
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.OutOfOrder);
        Assert.Equal(0, report.ReusedOffsets);
        Assert.Empty(report.Broken);
    }
}
