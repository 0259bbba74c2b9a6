using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// SASL DIGEST-MD5 with ZooKeeper's Java client and JAAS: tests/e2e/SaslDigest.java passes against Apache ZooKeeper
/// 3.8 configured as its documentation says and against this server given the same JAAS file.
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

    private static void AssertPassed(ExternalCommand.Result result)
    {
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Matches(@"(?m)^10 passed, 0 failed", result.Output);
    }

    [Fact]
    public async Task The_Java_clients_SASL_scenario_passes_against_both_servers()
    {
        var jaas = ServerJaas();
        await using (var zk = await ReferenceZooKeeper.StartAsync(
            $"-Djava.security.auth.login.config={jaas}", "-Dzookeeper.superUser=super",
            "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"))
        {
            AssertPassed(await RunClientAsync(zk.Hosts));
        }

        await using var silo = await SiloProcess.StartAsync("--java.security.auth.login.config", jaas, "--zookeeper.superUser", "super");
        AssertPassed(await RunClientAsync(silo.Hosts));
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
