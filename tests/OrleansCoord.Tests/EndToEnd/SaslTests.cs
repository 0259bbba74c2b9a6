using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// SASL DIGEST-MD5 with ZooKeeper's Java client and JAAS (tests/e2e/SaslDigest.java) and with kazoo through pure-sasl
/// (tests/e2e/kazoo_sasl.py): both pass against Apache ZooKeeper 3.8 configured as its documentation says and against
/// this server given the same JAAS file.
/// </summary>
public sealed class SaslTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sasl").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteJaas(string text)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".jaas");
        File.WriteAllText(path, text);
        return path;
    }

    private string ServerJaas() => WriteJaas("""
        // The users clients log in as, and the super user.
        Server {
            org.apache.zookeeper.server.auth.DigestLoginModule required
            user_bob="bobsecret"
            user_super="supersecret";
        };
        """);

    private static async Task<ExternalCommand.Result> RunClientAsync(string hosts)
    {
        string[] jars = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-nop.jar"];
        var classPath = string.Join(':', jars.Select(jar => Path.Combine("/usr/share/java", jar)));
        return await ExternalCommand.RunAsync("java", ["-cp", classPath, Path.Combine(Repository.E2e, "SaslDigest.java"), hosts], TimeSpan.FromMinutes(2));
    }

    private static async Task AssertClientsPassAsync(string hosts)
    {
        var java = await RunClientAsync(hosts);
        Assert.True(java.ExitCode == 0, java.Output);
        Assert.Matches(@"(?m)^10 passed, 0 failed", java.Output);
        var kazoo = await ExternalCommand.RunAsync("/usr/bin/python3", [Path.Combine(Repository.E2e, "kazoo_sasl.py"), hosts], TimeSpan.FromMinutes(2));
        Assert.True(kazoo.ExitCode == 0, kazoo.Output);
        Assert.Matches(@"(?m)^4 passed, 0 failed", kazoo.Output);
    }

    [Fact]
    public async Task Java_and_kazoo_SASL_clients_pass_against_both_servers()
    {
        var jaas = ServerJaas();
        await using (var zk = await ReferenceZooKeeper.StartAsync(
            $"-Djava.security.auth.login.config={jaas}", "-Dzookeeper.superUser=super",
            "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"))
        {
            await AssertClientsPassAsync(zk.Hosts);
        }

        await using var silo = await SiloProcess.StartAsync("--java.security.auth.login.config", jaas, "--zookeeper.superUser", "super");
        await AssertClientsPassAsync(silo.Hosts);
    }

    [Fact]
    public async Task A_JAAS_file_without_digest_users_stops_the_start()
    {
        var kerberos = WriteJaas("""
            Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/etc/zk.keytab"; };
            """);
        var result = await ExternalCommand.RunAsync("dotnet", [Repository.SiloDll, "--dataDir", SiloProcess.NewDataDir(), "--java.security.auth.login.config", kerberos], TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("java.security.auth.login.config", result.Output, StringComparison.Ordinal);
        Assert.Contains("Krb5LoginModule", result.Output, StringComparison.Ordinal);
    }
}
