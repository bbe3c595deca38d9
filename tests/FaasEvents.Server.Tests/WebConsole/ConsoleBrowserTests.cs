using System.Diagnostics;
using System.Globalization;
using FaasEvents.DevStorage;
using FaasEvents.Functions;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.DeadLetters;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Xunit.Abstractions;

namespace FaasEvents.Server.Tests.WebConsole;

/// <summary>
/// The web console (issue 20) in a real headless Chromium driven by playwright-core (tests/console/console.e2e.mjs):
/// browse a stream and find an event by id, watch a group's lag and reset it (preview, then applied), watch a running
/// function's lag rise as events arrive and fall as it handles them, see its counts on the functions page, look up a
/// materializer's table by prefix and key, filter its dead letters and replay one and see the function handle it, see a
/// stream's produce rate, check an event against a stream's contract and produce one, move around with the keyboard, and
/// no page wider than the window with a long stream name; with an API key required, nothing is shown until the key is
/// given. Screenshots of each page go to TestResults/console. Skipped, saying how to install them, where Chromium or
/// playwright-core is missing.
/// </summary>
public class ConsoleBrowserTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    /// <summary>The stream name the layout check uses: as long as a name may be.</summary>
    private const string LongName = "customer-address-changes-from-the-legacy-crm-nightly-export-eu";

    private const string ShipHostJson = """
        { "version": "2.0", "logging": { "logLevel": { "default": "Warning" } },
          "extensions": { "eventLog": { "maxBatchSize": 5, "leaseDuration": "00:00:15", "loadBalancingInterval": "00:00:01", "pollInterval": "00:00:00.100" } } }
        """;

    /// <summary>The function the console watches: 150 ms of work per shipment, so its lag is seen rising and falling.</summary>
    public static class Shipping
    {
        [Function("ship")]
        public static Task Run([EventTrigger("shipments")] LogEvent shipment) => Task.Delay(150);
    }

    private static string Root => AzuriteProcess.FindRepositoryRoot()!;

    private static string Chromium => Environment.GetEnvironmentVariable("CHROMIUM") ?? "/usr/bin/chromium";

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_console_browses_events_resets_a_group_replays_a_dead_letter_and_produces(bool withKey)
    {
        Skip.IfNot(File.Exists(Chromium), $"no Chromium at {Chromium}: install it with 'sudo apt-get install chromium' (or set CHROMIUM) to run the console's browser tests");
        Skip.IfNot(Directory.Exists(Path.Combine(Root, "node_modules", "playwright-core")), "playwright-core is not installed: run 'npm ci' in the repository root");

        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = 2 });
        await using (EventProducerClient producer = log.CreateProducer("orders"))
        {
            await producer.SendBatchAsync(Enumerable.Range(0, 15).Select(i => new LogEvent($"o-{i}", "/shop", "com.example.order.created")
            {
                PartitionKey = $"c{i % 4}",
                DataContentType = "application/json",
                Data = BinaryData.FromObjectAsJson(new { orderId = $"o-{i}", amount = i }),
            }));
        }

        await log.Checkpoints.UpdateAsync("billing", "orders", 0, 0);
        await log.Checkpoints.UpdateAsync("billing", "orders", 1, 0);
        await log.CreateStreamAsync(new StreamDefinition { Name = "shipments.ship.deadletter", Partitions = 1 });
        await using (EventProducerClient letters = log.CreateProducer("shipments.ship.deadletter"))
        {
            await letters.SendBatchAsync([DeadLetter("s-dead-1", "com.example.shipment.created", 3), DeadLetter("s-dead-2", "com.example.shipment.cancelled", 4)]);
        }

        await log.CreateStreamAsync(new StreamDefinition { Name = "payments", Partitions = 1 });
        await log.Schemas.RegisterAsync("payments", """{ "type": "object", "required": ["amount"], "properties": { "amount": { "type": "number", "minimum": 0 } } }""");
        await log.CreateStreamAsync(new StreamDefinition { Name = LongName, Partitions = 1 });
        await log.CreateStreamAsync(new StreamDefinition { Name = "shipments", Partitions = 1 });
        await SeedTableAsync(log);
        await using FunctionsApp ship = StartShipping(log);
        await ship.StartAsync();

        await using ServerHarness server = withKey
            ? await ServerHarness.StartAsync(azurite, log, "--FAAS_API_KEYS=console-key")
            : await ServerHarness.StartAsync(azurite, log);
        string shots = Path.Combine(Root, "TestResults", "console", withKey ? "with-key" : "open");
        if (Directory.Exists(shots))
        {
            Directory.Delete(shots, recursive: true); // every screenshot checked below is this run's
        }

        string[] args = [Path.Combine(Root, "tests", "console", "console.e2e.mjs"), $"http://127.0.0.1:{server.HttpPort.ToString(CultureInfo.InvariantCulture)}", shots, .. withKey ? ["console-key"] : Array.Empty<string>()];
        var psi = new ProcessStartInfo("node") { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process node = Process.Start(psi)!;
        Task<string> stdout = node.StandardOutput.ReadToEndAsync();
        Task<string> stderr = node.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await node.WaitForExitAsync(limit.Token);
        string said = await stdout + await stderr;
        output.WriteLine(said);
        Assert.True(node.ExitCode == 0, said);
        Assert.DoesNotContain("FAILED", said, StringComparison.Ordinal);
        Assert.All(new[] { "streams", "stream", "groups", "group", "group-live", "functions", "table", "deadletters", "produce" }, page => Assert.True(File.Exists(Path.Combine(shots, page + ".png")), $"no screenshot of the {page} page"));
        Assert.Equal(withKey, File.Exists(Path.Combine(shots, "auth.png")));
    }

    /// <summary>A shipment the ship function gave up on (as the runtime dead-letters it).</summary>
    private static LogEvent DeadLetter(string id, string type, long offset) => new(id, "/warehouse", type)
    {
        DataContentType = "application/json",
        Data = BinaryData.FromObjectAsJson(new { shipment = id }),
        Extensions =
        {
            [DeadLetterAttributes.Error] = "TimeoutException: the carrier did not answer",
            [DeadLetterAttributes.Attempts] = 4,
            [DeadLetterAttributes.Function] = "ship",
            [DeadLetterAttributes.Group] = "ship",
            [DeadLetterAttributes.Stream] = "shipments",
            [DeadLetterAttributes.Partition] = 0,
            [DeadLetterAttributes.Offset] = offset.ToString(CultureInfo.InvariantCulture),
            [DeadLetterAttributes.Time] = DateTimeOffset.UtcNow,
        },
    };

    /// <summary>A materializer's committed table (customers by id), as the runtime commits it.</summary>
    private static async Task SeedTableAsync(EventLogClient log)
    {
        await log.CreateStreamAsync(new StreamDefinition { Name = "customers", Partitions = 1, Kind = StreamKind.Entities });
        PartitionLease lease = (await log.CreateLeaseClient("customer-table-1").TryAcquireAsync("customer-table", "customers", 0, TimeSpan.FromSeconds(15)))!;
        await log.CreateStateStore("customer-table", "customers", 0).CommitAsync(
            new Dictionary<string, BinaryData?>
            {
                ["c-1"] = BinaryData.FromObjectAsJson(new { name = "Ada Lovelace", city = "London" }),
                ["c-2"] = BinaryData.FromObjectAsJson(new { name = "Grace Hopper", city = "New York" }),
                ["v-1"] = BinaryData.FromObjectAsJson(new { name = "A vendor" }),
            },
            3,
            lease,
            counts: new WorkCounts(3, 0, 0, 0, 1));
        await log.CreateLeaseClient("customer-table-1").ReleaseAsync(lease);
    }

    private FunctionsApp StartShipping(EventLogClient log)
    {
        string path = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, ShipHostJson);
        FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(["--port", "0", "--host-json", path, "--instance-id", "ship-1"]);
        builder.Configuration["FAAS_STORAGE"] = azurite.ConnectionString;
        builder.Configuration["FAAS_CONTAINER"] = log.Container.Name;
        builder.AddFunctions(typeof(Shipping));
        return builder.Build();
    }
}
