using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling.Grpc;
using FaasEvents.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;

namespace FaasEvents.Server.Tests;

/// <summary>The scaler over TLS, and over mutual TLS as KEDA's TriggerAuthentication (caCert, tlsClientCert) sets it up.</summary>
public class TlsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Scaler_serves_tls_and_requires_a_client_certificate_from_the_configured_ca()
    {
        string dir = Directory.CreateTempSubdirectory("faas-tls").FullName;
        using RSA caKey = RSA.Create(2048);
        var caReq = new CertificateRequest("CN=faas-test-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using X509Certificate2 ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        X509Certificate2 Issue(string cn, bool server)
        {
            RSA key = RSA.Create(2048); // owned by the returned certificate
            var req = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
            if (server)
            {
                var san = new SubjectAlternativeNameBuilder();
                san.AddIpAddress(System.Net.IPAddress.Loopback);
                san.AddDnsName("localhost");
                req.CertificateExtensions.Add(san.Build());
            }

            using X509Certificate2 signed = req.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), Guid.NewGuid().ToByteArray());
            return signed.CopyWithPrivateKey(key);
        }

        using X509Certificate2 serverCert = Issue("localhost", server: true);
        await File.WriteAllTextAsync(Path.Combine(dir, "server.crt"), serverCert.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(dir, "server.key"), serverCert.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(Path.Combine(dir, "ca.crt"), ca.ExportCertificatePem());

        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "tls" });
        (int http, int grpc) = AzuriteProcess.GetFreePorts(2) is [var h, var g] ? (h, g) : throw new InvalidOperationException("two ports");
        WebApplication app = ServerApp.Build(["--http-port", $"{http}", "--grpc-port", $"{grpc}", $"--FAAS_STORAGE={azurite.ConnectionString}", $"--FAAS_CONTAINER={log.Container.Name}",
            $"--FAAS_GRPC_TLS_CERT={Path.Combine(dir, "server.crt")}", $"--FAAS_GRPC_TLS_KEY={Path.Combine(dir, "server.key")}", $"--FAAS_GRPC_TLS_CLIENT_CA={Path.Combine(dir, "ca.crt")}", "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        try
        {
            async Task<bool> IsActive(X509Certificate2? clientCert)
            {
                var handler = new SocketsHttpHandler
                {
                    SslOptions = new SslClientAuthenticationOptions
                    {
                        // Trust only our CA, as KEDA does with caCert.
                        RemoteCertificateValidationCallback = (_, cert, _, _) =>
                        {
                            using var chain = new X509Chain();
                            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                            chain.ChainPolicy.CustomTrustStore.Add(ca);
                            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                            return cert is not null && chain.Build(new X509Certificate2(cert));
                        },
                        ClientCertificates = clientCert is null ? null : new X509CertificateCollection { clientCert },
                    },
                };
                using var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{grpc}", new GrpcChannelOptions { HttpHandler = handler });
                var scaler = new ExternalScaler.ExternalScalerClient(channel);
                return (await scaler.IsActiveAsync(ServerHarness.Ref(("stream", "tls"), ("consumerGroup", "g")))).Result;
            }

            using X509Certificate2 keda = Issue("keda", server: false);
            Assert.False(await IsActive(keda)); // mutual TLS: works with a client certificate from the CA
            await Assert.ThrowsAsync<RpcException>(() => IsActive(null)); // and is refused without one

            using RSA otherKey = RSA.Create(2048);
            using X509Certificate2 stranger = new CertificateRequest("CN=stranger", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await Assert.ThrowsAsync<RpcException>(() => IsActive(stranger)); // or with one from another CA
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
