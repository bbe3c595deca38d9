using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Functions.Tests.Hosting;

/// <summary>Start-up problems name the setting and the fix (invariant 10).</summary>
public class StartupErrorTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    public static class Functions
    {
        [Function("se-fn")]
        public static void Handle([EventTrigger("se-in", Connection = "ORDERS_STORAGE")] CloudEvent e)
        {
        }
    }

    public static class LongNames
    {
        public const string Stream = "orders-from-the-very-long-named-regional-webshop-integration-of-the-northern-european-market-2026";
        public const string Group = "audit-and-compliance-archiver-for-the-very-long-named-regional-webshop-integration-2026-with-an-extra-long-suffix-for-testing";

        [Function("se-long")]
        public static void Handle([EventTrigger(Stream, ConsumerGroup = Group)] CloudEvent e)
        {
        }
    }

    [Fact]
    public async Task A_dead_letter_stream_name_over_the_limit_stops_start_up_naming_the_setting()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = LongNames.Stream, Partitions = 1 });
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(LongNames));

        FunctionIndexingException ex = await Assert.ThrowsAsync<FunctionIndexingException>(() => app.StartAsync());

        Assert.Contains("dead-letter stream", ex.Message, StringComparison.Ordinal);
        Assert.Contains("extensions.eventLog.deadLetter.stream", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_setting_that_is_not_set_stops_start_up_naming_it_instead_of_using_development_storage()
    {
        EventLogClient log = azurite.CreateClient();
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions));

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => app.StartAsync());

        Assert.Equal("setting 'ORDERS_STORAGE' (the Connection of function 'se-fn') is not set: set it to a storage connection string or an https:// blob endpoint.", ex.Message);
    }
}
