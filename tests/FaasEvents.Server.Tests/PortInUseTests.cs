using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FaasEvents.Server.Tests;

/// <summary>A port another program holds stops the server with one line naming the port and the fix, not a stack trace.</summary>
public class PortInUseTests
{
    [Theory]
    [InlineData("--http-port")]
    [InlineData("--grpc-port")]
    public async Task A_taken_port_is_named_in_one_line(string option)
    {
        using var holder = new TcpListener(IPAddress.Any, 0);
        holder.Start();
        int taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        int other = FaasEvents.DevStorage.AzuriteProcess.GetFreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[]
        {
            typeof(ServerMain).Assembly.Location,
            "--http-port", (option == "--http-port" ? taken : other).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--grpc-port", (option == "--grpc-port" ? taken : other).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--FAAS_STORAGE=UseDevelopmentStorage=true",
        })
        {
            psi.ArgumentList.Add(a);
        }

        using Process server = Process.Start(psi)!;
        Task<string> stderr = server.StandardError.ReadToEndAsync();
        Task<string> stdout = server.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await server.WaitForExitAsync(cts.Token);

        string error = (await stderr).Trim();
        Assert.Equal(1, server.ExitCode);
        Assert.Equal($"error: port {taken} ({option}) is in use by another program; stop it or choose another {option}.", error);
        Assert.DoesNotContain("Exception", await stdout, StringComparison.Ordinal); // no stack trace logged beside the line
    }
}
