using System.Diagnostics;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Testing;

namespace FaasEvents.Server.Tests;

/// <summary>The container HEALTHCHECK command (<c>--healthcheck</c>), run as the image runs it.</summary>
public class HealthCheckTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static async Task<int> ProbeAsync(int port)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "FaasEvents.Server.dll"));
        psi.ArgumentList.Add("--healthcheck");
        psi.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using Process p = Process.Start(psi)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        return p.ExitCode;
    }

    [Fact]
    public async Task Healthcheck_exits_0_for_a_healthy_server_and_1_when_nothing_answers()
    {
        EventLogClient log = azurite.CreateClient();
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        Assert.Equal(0, await ProbeAsync(server.HttpPort));
        Assert.Equal(1, await ProbeAsync(AzuriteProcess.GetFreePort()));
    }
}
