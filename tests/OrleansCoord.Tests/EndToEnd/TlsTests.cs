using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// The secure client port: kazoo over TLS with client certificates (x509 ids, ACLs, the x509 super user, refused
/// handshakes) passes the same script against Apache ZooKeeper 3.8 and this server; PEM and PKCS#12 key stores; and
/// unusable TLS settings stop the start naming their key.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private const string Python = "/usr/bin/python3";
    private const string ClientId = "CN=client-one,OU=tests,O=OrleansCoord";
    private readonly string _certs = Path.Combine(Path.GetTempPath(), "orleanscoord-tests", "certs-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        var made = await ExternalCommand.RunAsync("bash", [Path.Combine(Repository.E2e, "make_certs.sh"), _certs], TimeSpan.FromMinutes(1));
        Assert.True(made.ExitCode == 0, made.Output);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_certs, recursive: true);
        return Task.CompletedTask;
    }

    private string Cert(string name) => Path.Combine(_certs, name);

    private static void AssertPassed(ExternalCommand.Result result)
    {
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Matches(@"(?m)^[1-9][0-9]* passed, 0 failed", result.Output);
    }

    private Task<ExternalCommand.Result> KazooTlsAsync(int securePort, int plainPort) =>
        ExternalCommand.RunAsync(Python, [Path.Combine(Repository.E2e, "kazoo_tls.py"), $"127.0.0.1:{securePort}", $"127.0.0.1:{plainPort}", _certs], TimeSpan.FromMinutes(3));

    [Fact]
    public async Task Kazoo_over_tls_passes_as_against_apache_zookeeper()
    {
        var securePort = FreePorts.Take();
        await using (var reference = await ReferenceZooKeeper.StartAsync(
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory", $"secureClientPort={securePort}",
            $"ssl.keyStore.location={Cert("server-keystore.pem")}", "ssl.keyStore.type=PEM",
            $"ssl.trustStore.location={Cert("ca.pem")}", "ssl.trustStore.type=PEM",
            "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
            $"X509AuthenticationProvider.superUser={ClientId}"))
        {
            AssertPassed(await KazooTlsAsync(securePort, reference.Port));
        }

        await using var silo = await SiloProcess.StartAsync(
            "--secureClientPort", "0", "--ssl.keyStore.location", Cert("server-keystore.pem"),
            "--ssl.trustStore.location", Cert("ca.pem"), "--X509AuthenticationProvider.superUser", ClientId);
        Assert.NotNull(silo.SecurePort);
        AssertPassed(await KazooTlsAsync(silo.SecurePort.Value, silo.Port));
    }

    [Fact]
    public async Task A_pkcs12_key_store_serves_clients_without_certificates_when_client_auth_is_want()
    {
        await using var silo = await SiloProcess.StartAsync(
            "--secureClientPort", "0", "--ssl.keyStore.location", Cert("server.p12"), "--ssl.keyStore.password", "secret",
            "--ssl.clientAuth", "want");
        var script = $"""
            from kazoo.client import KazooClient
            zk = KazooClient(hosts="127.0.0.1:{silo.SecurePort}", use_ssl=True, ca="{Cert("ca.pem")}")
            zk.start(timeout=15)
            zk.create("/p12-node", b"over tls")
            print(zk.get("/p12-node")[0].decode())
            zk.stop()
            """;
        var result = await ExternalCommand.RunAsync(Python, ["-c", script], TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("over tls", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ssl.keyStore.location", "missing.pem", "")]
    [InlineData("ssl.keyStore.location", "ca.pem", "")]
    [InlineData("ssl.keyStore.type", "server-keystore.pem", "JKS")]
    [InlineData("ssl.trustStore.location", "server-keystore.pem", "missing.pem")]
    public async Task Unusable_tls_settings_stop_the_start_naming_the_key(string key, string keyStore, string other)
    {
        List<string> args = [Repository.SiloDll, "--dataDir", SiloProcess.NewDataDir(), "--clientPort", "0", "--admin.enableServer", "false",
            "--secureClientPort", "0", "--ssl.keyStore.location", Cert(keyStore)];
        if (key == "ssl.keyStore.type")
        {
            args.AddRange(["--ssl.keyStore.type", other]);
        }
        else if (key == "ssl.trustStore.location")
        {
            args.AddRange(["--ssl.trustStore.location", Cert(other)]);
        }

        var result = await ExternalCommand.RunAsync("dotnet", args, TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"Invalid configuration: {key}:", result.Output, StringComparison.Ordinal);
    }
}
