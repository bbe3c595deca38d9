using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.TestSupport;

namespace FaasEvents.Server.Tests;

/// <summary>The container HEALTHCHECK command (<c>--healthcheck</c>), run as the image runs it.</summary>
public class HealthCheckTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static async Task<int> ProbeAsync(int port) =>
        (await DotnetRun.RunAsync(Path.Combine(AppContext.BaseDirectory, "FaasEvents.Server.dll"), ["--healthcheck", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout: TimeSpan.FromSeconds(30))).ExitCode;

    [Fact]
    public async Task Healthcheck_exits_0_for_a_healthy_server_and_1_when_nothing_answers()
    {
        EventLogClient log = azurite.CreateClient();
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        Assert.Equal(0, await ProbeAsync(server.HttpPort));
        Assert.Equal(1, await ProbeAsync(AzuriteProcess.GetFreePort()));
    }
}
