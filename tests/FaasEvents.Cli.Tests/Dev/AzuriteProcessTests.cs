using System.Net;
using System.Net.Sockets;
using FaasEvents.DevStorage;

namespace FaasEvents.Cli.Tests.Dev;

/// <summary>Starting Azurite is only reported done when Azurite itself listens, not when anything answers on its port.</summary>
public class AzuriteProcessTests
{
    [Fact]
    public async Task A_port_another_server_holds_is_refused_not_taken_for_Azurite()
    {
        // CI once handed a test class's Azurite port to another test's gRPC server in the moment before Azurite bound it:
        // the port answered, so the fixture reported Azurite ready and the tests' storage calls went to the gRPC server
        // ("An HTTP/1.x request was sent to an HTTP/2 only endpoint").
        string root = AzuriteProcess.FindRepositoryRoot() ?? throw new InvalidOperationException("no repository root with azurite");
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;

        InvalidOperationException refused = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using AzuriteProcess wrong = await AzuriteProcess.StartAsync(root, port);
        });
        Assert.Contains($"port {port}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("in use", refused.Message, StringComparison.Ordinal);
    }
}
