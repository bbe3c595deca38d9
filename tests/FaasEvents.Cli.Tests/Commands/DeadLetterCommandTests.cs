using System.Text.Json.Nodes;
using FaasEvents.Log;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Cli.Tests.Commands;

/// <summary><c>faas deadletter</c> as an operator runs it after a fix: list, dry run, replay (twice), and mistakes in one line.</summary>
public class DeadLetterCommandTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Dead_letters_are_listed_and_replayed_once()
    {
        EventLogClient log = azurite.CreateClient();
        Task<DotnetRun.Result> Faas(params string[] args) => FaasProcess.RunAsync(azurite.ConnectionString, [.. args, "--container", log.Container.Name]);
        await log.CreateStreamAsync(new StreamDefinition { Name = "invoices", Partitions = 2 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "invoices.mailer.deadletter" });
        await log.Checkpoints.UpdateAsync("archive", "invoices", 0, 0); // another group reading the stream
        await using (EventProducerClient producer = log.CreateProducer("invoices.mailer.deadletter"))
        {
            await producer.SendBatchAsync([TestEvents.DeadLetter("inv-1", "invoice.issued", "cust-1", "invoices", 0, 12, "SMTP 550 mailbox unavailable"), TestEvents.DeadLetter("inv-2", "invoice.voided", "cust-2", "invoices", 1, 3)]);
        }

        DotnetRun.Result list = await Faas("deadletter", "list", "invoices", "mailer", "-o", "json");
        Assert.Equal(0, list.ExitCode);
        JsonArray letters = JsonNode.Parse(list.Stdout)!.AsArray();
        Assert.Equal(["inv-1", "inv-2"], letters.Select(l => (string)l!["id"]!));
        Assert.Equal("SMTP 550 mailbox unavailable", (string)letters[0]!["error"]!);
        Assert.Equal(12, (long)letters[0]!["source"]!["offset"]!);

        DotnetRun.Result table = await Faas("deadletter", "list", "invoices", "mailer");
        Assert.True(table.Stdout.Contains("SMTP 550", StringComparison.Ordinal), table.Stdout + table.Stderr);

        DotnetRun.Result dry = await Faas("deadletter", "replay", "invoices", "mailer", "--type", "invoice.issued", "--dry-run");
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains("would replay inv-1", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains("Dry run: 1 of 1 event(s) would be appended to 'invoices'; nothing was written.", dry.Stdout, StringComparison.Ordinal);
        Assert.Empty(await TestEvents.ReadAllAsync(log, "invoices"));

        DotnetRun.Result replay = await Faas("deadletter", "replay", "invoices", "mailer");
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains("2 of 2 event(s) appended to 'invoices'", replay.Stdout, StringComparison.Ordinal);
        Assert.Contains("group(s) archive also read 'invoices'", replay.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Faas("deadletter", "replay", "invoices", "mailer")).ExitCode);
        Assert.Equal(["inv-1", "inv-2"], (await TestEvents.ReadAllAsync(log, "invoices")).Select(e => e.Event.Id).Order()); // twice asked, once delivered

        DotnetRun.Result missing = await Faas("deadletter", "replay", "invoices", "mailer", "--to", "invoices.retyr");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.StartsWith("error: Stream 'invoices.retyr' does not exist", missing.Stderr.Trim(), StringComparison.Ordinal);

        DotnetRun.Result none = await Faas("deadletter", "list", "invoices", "nobody");
        Assert.Equal(0, none.ExitCode);
        Assert.Contains("No dead letters of group 'nobody' on 'invoices'", none.Stdout, StringComparison.Ordinal);
    }
}
