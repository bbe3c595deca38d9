using System.Collections.Concurrent;
using FaasEvents.Log;
using FaasEvents.Log.DeadLetters;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// The operator's loop: a poison event is dead-lettered, the handler is fixed, the dead letter is replayed — twice, by
/// accident — and the fixed handler processes the event exactly once.
/// </summary>
public class DeadLetterReplayTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string HostJson = """
        { "version": "2.0",
          "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": {
            "maxBatchSize": 10, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.050",
            "retry": { "strategy": "fixedDelay", "maxRetryCount": 1, "delayInterval": "00:00:00.010" } } } }
        """;

    private static readonly ConcurrentQueue<string> Handled = new();
    private static volatile bool isFixed;

    public static class Ledger
    {
        [Function("dlr-ledger")]
        public static void Book([EventTrigger("dlr-payments")] LogEvent e)
        {
            if (e.Id == "poison" && !isFixed)
            {
                throw new InvalidOperationException("amount must be positive");
            }

            Handled.Enqueue(e.Id + (e.Extensions.ContainsKey(DeadLetterAttributes.ReplayOf) ? " (replayed)" : ""));
        }
    }

    [Fact]
    public async Task A_fixed_handler_processes_a_replayed_dead_letter_once_even_when_it_is_replayed_twice()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "dlr-payments", Partitions = 2 });
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Ledger), HostJson);
        await app.StartAsync();
        await using (EventProducerClient producer = log.CreateProducer("dlr-payments"))
        {
            await producer.SendBatchAsync([TestEvents.Json("good-1", key: "a"), TestEvents.Json("poison", key: "b"), TestEvents.Json("good-2", key: "c")]);
        }

        await AppHarness.WaitUntilAsync(async () => (await log.DeadLetters.ListAsync("dlr-payments", "dlr-ledger")).Count == 1 && Handled.Count == 2, "the poison event dead-lettered, the others handled");
        Assert.Contains("amount must be positive", (await log.DeadLetters.ListAsync("dlr-payments", "dlr-ledger")).Single().Error, StringComparison.Ordinal);

        isFixed = true; // the fix is deployed
        await log.DeadLetters.ReplayAsync("dlr-payments", "dlr-ledger");
        await log.DeadLetters.ReplayAsync("dlr-payments", "dlr-ledger"); // an operator runs it again
        await AppHarness.WaitUntilAsync(() => Handled.Contains("poison (replayed)"), "the replayed event handled");
        await AppHarness.WaitUntilAsync(async () => (await log.GetLagAsync("dlr-payments", "dlr-ledger")).TotalLag == 0, "the group caught up past both replays");
        await app.StopAsync();

        Assert.Equal(["good-1", "good-2", "poison (replayed)"], Handled.Order(StringComparer.Ordinal)); // lost: none; duplicated: none
    }
}
