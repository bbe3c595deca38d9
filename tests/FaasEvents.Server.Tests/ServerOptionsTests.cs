using FaasEvents.Log;
using Microsoft.Extensions.Configuration;

namespace FaasEvents.Server.Tests;

/// <summary>The server's settings are read from FAAS_* configuration and checked on the type, each problem in one line.</summary>
public class ServerOptionsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Settings_are_read_by_their_FAAS_names_and_the_command_line_wins()
    {
        ServerOptions o = ServerOptions.Read(
            Config((FaasSettings.HttpPort, "8081"), (FaasSettings.GrpcPort, "6001"), (FaasSettings.IngressApiKeys, "a, b"), (FaasSettings.LagCacheMilliseconds, "250")),
            grpcPort: 7000);

        Assert.Equal((8081, 7000, 250.0), (o.HttpPort, o.GrpcPort, o.LagCacheDuration.TotalMilliseconds));
        Assert.Equal(["a", "b"], o.ApiKeys);
        Assert.Empty(o.Validate());
        Assert.Equal((8080, 6000), (ServerOptions.Read(Config()).HttpPort, ServerOptions.Read(Config()).GrpcPort));
    }

    [Fact]
    public void Every_problem_names_the_setting_and_the_fix()
    {
        var o = new ServerOptions { HttpPort = 70000, IngressRepeatWindow = TimeSpan.FromDays(2), GrpcTlsKey = "/nonexistent/key.pem", GrpcTlsClientCa = "/nonexistent/ca.pem" };

        IReadOnlyList<string> problems = o.Validate();

        Assert.Contains("FAAS_HTTP_PORT: 70000 is not a port number (0-65535).", problems);
        Assert.Contains("TLS on the scaler port needs both FAAS_GRPC_TLS_CERT and FAAS_GRPC_TLS_KEY (PEM files); only one is set.", problems);
        Assert.Contains("FAAS_GRPC_TLS_CLIENT_CA needs TLS: set FAAS_GRPC_TLS_CERT and FAAS_GRPC_TLS_KEY too.", problems);
        Assert.Contains("FAAS_GRPC_TLS_KEY: file '/nonexistent/key.pem' does not exist.", problems);
        Assert.Contains("FAAS_INGRESS_REPEAT_WINDOW: 2.00:00:00 must be between 00:00:00 (off) and 1.00:00:00 (a day).", problems);
        Assert.All(problems, p => Assert.DoesNotContain('\n', p));
    }

    [Fact]
    public void A_value_that_is_not_a_number_is_refused_naming_it()
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => ServerOptions.Read(Config((FaasSettings.GrpcPort, "six thousand"))));

        Assert.Equal("FAAS_GRPC_PORT: 'six thousand' is not a port number (0-65535).", ex.Message);
        Assert.Equal(
            "FAAS_INGRESS_REPEAT_WINDOW: 'ten minutes' is not a TimeSpan such as 00:10:00 (00:00:00 turns repeat detection off).",
            Assert.Throws<ArgumentException>(() => ServerOptions.Read(Config((FaasSettings.IngressRepeatWindow, "ten minutes")))).Message);
    }
}
