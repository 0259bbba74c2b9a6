using System.Text.RegularExpressions;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Migration;

/// <summary>
/// Apache ZooKeeper 3.8's dataDir imported into OrleansCoord: a tree of every node kind written by kazoo to the
/// real ZooKeeper, which is then killed, reads back identical (stats, ACLs, data) through kazoo from this
/// server, and the writer's session resumes here with the password ZooKeeper gave it. The same directory imported
/// into a cluster's PostgreSQL database reads back the same.
/// </summary>
public sealed partial class ZooKeeperMigrationTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static string Tree => Path.Combine(Repository.E2e, "zk_tree.py");

    private static Task<ExternalCommand.Result> Silo(params string[] args) =>
        ExternalCommand.RunAsync("dotnet", [Repository.SiloDll, .. args], Timeout);

    private static async Task<string> DumpAsync(string hosts)
    {
        var dump = await ExternalCommand.RunAsync(Python, [Tree, "dump", hosts], Timeout);
        Assert.True(dump.ExitCode == 0, dump.Output);
        return string.Join('\n', dump.Output.Split('\n').Where(line => line.StartsWith('/') || line.EndsWith(" znodes", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_killed_ZooKeepers_dataDir_imports_into_an_identical_tree_with_its_sessions()
    {
        // Snapshots every few hundred txns, so the import reads a snapshot and the logs after it.
        await using var zk = await ReferenceZooKeeper.StartAsync("extendedTypesEnabled=true", "maxSessionTimeout=120000", "snapCount=1000");
        var written = await ExternalCommand.RunAsync(Python, [Tree, "write", zk.Hosts, "--nodes", "3000"], Timeout);
        Assert.True(written.ExitCode == 0, written.Output);
        var session = SessionLine().Match(written.Output);
        Assert.True(session.Success, written.Output);
        var expected = await DumpAsync(zk.Hosts);
        Assert.Contains("/migrate/eph ", expected, StringComparison.Ordinal);
        await zk.KillAsync();

        var dataDir = SiloProcess.NewDataDir();
        var withoutTtl = await Silo("import-zookeeper", zk.DataDir, "--dataDir", dataDir);
        Assert.Equal(1, withoutTtl.ExitCode);
        Assert.Contains("holds 2 TTL nodes", withoutTtl.Output, StringComparison.Ordinal);

        var imported = await Silo("import-zookeeper", zk.DataDir, "--dataDir", dataDir, "--extendedTypesEnabled", "true");
        Assert.True(imported.ExitCode == 0, imported.Output);
        Assert.Matches(@"read \S+snapshot\.[0-9a-f]+ \(zxid 0x[0-9a-f]+\) and [1-9][0-9]* txns after it", imported.Output);
        Assert.Contains("(2 ephemeral, 2 container, 2 TTL) and 1 sessions", imported.Output, StringComparison.Ordinal);

        var again = await Silo("import-zookeeper", zk.DataDir, "--dataDir", dataDir, "--extendedTypesEnabled", "true");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already holds data", again.Output, StringComparison.Ordinal);

        await using var silo = await SiloProcess.StartInAsync(dataDir, true, "--extendedTypesEnabled", "true", "--maxSessionTimeout", "120000");
        Assert.Equal(expected, await DumpAsync(silo.Hosts));

        var resumed = await ExternalCommand.RunAsync(Python, [Tree, "resume", silo.Hosts, session.Groups[1].Value, session.Groups[2].Value], Timeout);
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        Assert.Contains("PASS", resumed.Output, StringComparison.Ordinal);

        var check = await Silo("check-datadir", "--dataDir", dataDir);
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Matches(@"snapshot \S+: intact, zxid 0x[0-9a-f]+, [0-9]+ znodes, 1 sessions", check.Output);
        Assert.Matches(@"(?m)^OK$", check.Output);

        string[] postgres = ["--storage", "postgres", "--postgres.connectionString", await fixture.Server.CreateDatabaseAsync(), "--orleans.clusterId", "migrated", "--extendedTypesEnabled", "true"];
        var intoPostgres = await Silo(["import-zookeeper", zk.DataDir, .. postgres]);
        Assert.True(intoPostgres.ExitCode == 0, intoPostgres.Output);
        await using var member = await SiloProcess.StartAsync([.. postgres, "--maxSessionTimeout", "120000"]);
        Assert.Equal(expected, await DumpAsync(member.Hosts));
    }

    [GeneratedRegex("session 0x([0-9a-f]+) password ([0-9a-f]+) left open")]
    private static partial Regex SessionLine();
}
