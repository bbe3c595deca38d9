using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Testing;

namespace FaasEvents.Functions.Tests;

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

    [Fact]
    public async Task A_connection_setting_that_is_not_set_stops_start_up_naming_it_instead_of_using_development_storage()
    {
        EventLogClient log = azurite.CreateClient();
        await using FunctionsApp app = AppHarness.Build(azurite, log, typeof(Functions));

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => app.StartAsync());

        Assert.Equal("setting 'ORDERS_STORAGE' (the Connection of function 'se-fn') is not set: set it to a storage connection string or an https:// blob endpoint.", ex.Message);
    }
}
