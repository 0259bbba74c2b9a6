using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// Quotas as zkCli.sh sets, lists and deletes them (setquota, listquota, delquota), with enforceQuota on: the same
/// session prints the same against Apache ZooKeeper 3.8 and this server, hard limits refusing writes included.
/// </summary>
public sealed class QuotaTests
{
    [Fact]
    public async Task ZkCli_quotas_behave_as_in_apache_zookeeper()
    {
        var (expected, actual) = await StepLogs.RunBothAsync(["enforceQuota=true"], ["--enforceQuota", "true"], port => RunAsync($"127.0.0.1:{port}"));

        // The session shows what it is about when run against ZooKeeper itself.
        Assert.Contains("Quota has exceeded : ROOT/c", expected);
        Assert.Contains("Output stat for ROOT count=3,bytes=8", expected);
        StepLogs.AssertSame(expected, actual);
    }

    /// <summary>Quotas live in the tree and their usage is counted again on recovery: a hard limit holds across a restart.</summary>
    [Fact]
    public async Task A_quota_holds_across_a_restart()
    {
        var dataDir = SiloProcess.NewDataDir();
        var root = "/quota-" + Guid.NewGuid().ToString("N")[..8];
        await using (var first = await SiloProcess.StartInAsync(dataDir, ownsDataDir: false, "--enforceQuota", "true"))
        {
            await ZkCliAsync(first.Hosts, root, [$"create {root}", $"setquota -N 2 {root}", $"create {root}/a"]);
            await first.KillAsync();
        }

        await using var second = await SiloProcess.StartInAsync(dataDir, ownsDataDir: true, "--enforceQuota", "true");
        var lines = await ZkCliAsync(second.Hosts, root, [$"create {root}/b", $"listquota {root}"]);
        Assert.Equal(["Quota has exceeded : ROOT/b", "absolute path is /zookeeper/quotaROOT/zookeeper_limits",
            "Output quota for ROOT count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2", "Output stat for ROOT count=2,bytes=0"], lines);
    }

    private static Task<List<string>> RunAsync(string hosts)
    {
        var root = "/quota-" + Guid.NewGuid().ToString("N")[..8];
        string[] commands =
        [
            $"create {root}", $"create {root}/a abc", $"setquota -N 3 {root}", $"setquota -b 100 {root}", $"listquota {root}",
            $"create {root}/b", $"create {root}/c", $"set {root}/a 12345678", $"listquota {root}",
            $"get /zookeeper/quota{root}/zookeeper_stats", $"get /zookeeper/quota{root}/zookeeper_limits", $"ls /zookeeper/quota{root}",
            $"delquota -N {root}", $"listquota {root}", $"create {root}/c", $"delquota {root}", $"listquota {root}",
            $"ls /zookeeper/quota{root}",
            $"create {root}/deep", $"create {root}/deep/x", $"setquota -B 4 {root}/deep", $"create {root}/deep/y", $"set {root}/deep/x 12345",
            $"set {root}/deep/x 1234", $"listquota {root}/deep", $"setquota -n 1 {root}",
        ];
        return ZkCliAsync(hosts, root, commands);
    }

    /// <summary>One zkCli.sh session fed the commands on stdin; its output lines, the root named ROOT.</summary>
    private static async Task<List<string>> ZkCliAsync(string hosts, string root, string[] commands)
    {
        // One stream, so that errors stay in their place among the output.
        var shell = $"CLIENT_JVMFLAGS=-Dlog4j.configuration=file:/dev/null timeout 120 /usr/share/zookeeper/bin/zkCli.sh -server {hosts} 2>&1";
        var result = await ExternalCommand.RunAsync("bash", ["-c", shell], TimeSpan.FromMinutes(3), stdin: string.Join('\n', commands) + "\nquit\n");
        return [.. result.Output.Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.Length > 0 && !line.StartsWith("SLF4J", StringComparison.Ordinal) && !line.Contains("log4j", StringComparison.Ordinal)
                && !line.StartsWith("WATCHER::", StringComparison.Ordinal) && !line.StartsWith("WatchedEvent", StringComparison.Ordinal)
                && !line.StartsWith("Connecting to", StringComparison.Ordinal) && !line.StartsWith("Welcome to", StringComparison.Ordinal)
                && !line.StartsWith("JLine", StringComparison.Ordinal))
            .Select(line => line.Replace(root, "ROOT", StringComparison.Ordinal))];
    }
}
