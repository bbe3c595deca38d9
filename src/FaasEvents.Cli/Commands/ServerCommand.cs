using System.CommandLine;
using FaasEvents.Server;

namespace FaasEvents.Cli.Commands;

/// <summary><c>faas server</c>: the control plane (KEDA scaler, CloudEvents ingress, ping sources, admin API) in this process.</summary>
internal static class ServerCommand
{
    public static Command Build()
    {
        var command = new Command("server", "Run the control plane: KEDA external scaler (gRPC), CloudEvents ingress, ping sources, admin API. Takes the server's options (--http-port, --grpc-port, --PingSources:0:..., FAAS_* settings; see docs/control-plane.md).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async parse => await ServerMain.RunAsync([.. parse.UnmatchedTokens]));
        return command;
    }
}
