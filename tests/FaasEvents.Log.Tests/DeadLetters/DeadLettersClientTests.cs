using FaasEvents.Log.DeadLetters;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Log.Tests.DeadLetters;

/// <summary>Dead letters listed with why they failed, and replayed as the original events, once however often it is asked.</summary>
public class DeadLettersClientTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Dead_letters_are_listed_and_replayed_as_the_original_events_once()
    {
        EventLogClient log = await WithDeadLettersAsync();

        IReadOnlyList<DeadLetter> letters = await log.DeadLetters.ListAsync("payments", "ledger");
        Assert.Equal(["pay-1", "pay-2", "refund-1"], letters.Select(l => l.Id));
        DeadLetter first = letters[0];
        Assert.Equal(("payments", 1, 41L, 5, "amount must be positive", "acct-9"), (first.SourceStream, first.SourcePartition, first.SourceOffset, first.Attempts, first.Error, first.Key));
        Assert.Equal(["refund-1"], (await log.DeadLetters.ListAsync("payments", "ledger", type: "refund.created")).Select(l => l.Id));

        IReadOnlyList<DeadLetterReplay> dry = await log.DeadLetters.ReplayAsync("payments", "ledger", dryRun: true);
        Assert.All(dry, r => Assert.Null(r.To));
        Assert.Empty(await TestEvents.ReadAllAsync(log, "payments"));

        IReadOnlyList<DeadLetterReplay> replayed = await log.DeadLetters.ReplayAsync("payments", "ledger", type: "payment.created");
        Assert.Equal(["pay-1", "pay-2"], replayed.Select(r => r.Id));
        Assert.All(replayed, r => Assert.StartsWith("payments/", r.To, StringComparison.Ordinal));
        List<StoredEvent> back = await TestEvents.ReadAllAsync(log, "payments");
        StoredEvent pay1 = back.Single(e => e.Event.Id == "pay-1");
        Assert.Equal("acct-9", pay1.Event.PartitionKey);
        Assert.Equal("{\"amount\":-5}", pay1.Event.Data!.ToString());
        Assert.Equal("payments.ledger.deadletter/0/0", pay1.Event.Extensions[DeadLetterAttributes.ReplayOf]);
        Assert.DoesNotContain(pay1.Event.Extensions.Keys, k => k.StartsWith("dlq", StringComparison.Ordinal));

        // Asked again (all of them now, so pay-1 and pay-2 a second time): readers get each event once.
        await log.DeadLetters.ReplayAsync("payments", "ledger");
        Assert.Equal(["pay-1", "pay-2", "refund-1"], (await TestEvents.ReadAllAsync(log, "payments")).Select(e => e.Event.Id).Order());
        int stored = 0;
        for (int p = 0; p < 2; p++)
        {
            await foreach (StoredEvent _ in log.ReadPartitionAsync("payments", p, new ReadOptions { Deduplicate = false }))
            {
                stored++;
            }
        }

        Assert.Equal(5, stored); // the second replay wrote pay-1 and pay-2 again; the reader filter skipped them
    }

    [Fact]
    public async Task A_replay_goes_to_another_stream_when_asked_and_an_unknown_target_writes_nothing()
    {
        EventLogClient log = await WithDeadLettersAsync();
        await log.CreateStreamAsync(new StreamDefinition { Name = "payments.retry" });

        EventLogException missing = await Assert.ThrowsAsync<EventLogException>(() => log.DeadLetters.ReplayAsync("payments", "ledger", to: "payments.retyr"));
        Assert.Equal(EventLogErrorReason.StreamNotFound, missing.Reason);

        IReadOnlyList<DeadLetterReplay> replayed = await log.DeadLetters.ReplayAsync("payments", "ledger", id: "refund-1", to: "payments.retry");
        Assert.Equal("refund-1", Assert.Single(replayed).Id);
        Assert.Equal(["refund-1"], (await TestEvents.ReadAllAsync(log, "payments.retry")).Select(e => e.Event.Id));
        Assert.Empty(await TestEvents.ReadAllAsync(log, "payments"));
        Assert.Empty(await log.DeadLetters.ListAsync("payments", "nobody")); // no dead-letter stream: nothing to list
    }

    /// <summary>Stream "payments" (2 partitions, empty) and three dead letters of group "ledger", as the runtime writes them.</summary>
    private async Task<EventLogClient> WithDeadLettersAsync()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "payments", Partitions = 2 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "payments.ledger.deadletter" });
        await using EventProducerClient producer = log.CreateProducer("payments.ledger.deadletter");
        await producer.SendBatchAsync(
        [
            TestEvents.DeadLetter("pay-1", "payment.created", "acct-9", "payments", 1, 41),
            TestEvents.DeadLetter("pay-2", "payment.created", "acct-3", "payments", 0, 7),
            TestEvents.DeadLetter("refund-1", "refund.created", "acct-9", "payments", 1, 42),
        ]);
        return log;
    }
}
