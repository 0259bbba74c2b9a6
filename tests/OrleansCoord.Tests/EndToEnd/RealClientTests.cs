using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// Real, unmodified ZooKeeper clients from Debian's packages (kazoo, zkCli.sh, cli_mt, the Java client, Curator's recipes) drive the server
/// process over TCP. Each script was first checked against Apache ZooKeeper 3.8 itself.
/// </summary>
public sealed class RealClientTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private const string Python = "/usr/bin/python3";

    private static void AssertPassed(ExternalCommand.Result result)
    {
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Matches(@"(?m)^[1-9][0-9]* passed, 0 failed", result.Output);
    }

    [Fact]
    public async Task Kazoo_scenarios_pass() =>
        AssertPassed(await ExternalCommand.RunAsync(Python, [Path.Combine(Repository.E2e, "kazoo_scenarios.py"), "--hosts", fixture.Silo.Hosts], TimeSpan.FromMinutes(5)));

    [Fact]
    public async Task ZkCli_scenario_passes() =>
        AssertPassed(await ExternalCommand.RunAsync("bash", [Path.Combine(Repository.E2e, "zkcli_scenario.sh"), fixture.Silo.Hosts], TimeSpan.FromMinutes(5)));

    [Fact]
    public async Task Java_client_persistent_watches_pass()
    {
        string[] jars = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-nop.jar"];
        var classPath = string.Join(':', jars.Select(jar => Path.Combine("/usr/share/java", jar)));
        AssertPassed(await ExternalCommand.RunAsync("java", ["-cp", classPath, Path.Combine(Repository.E2e, "PersistentWatches.java"), fixture.Silo.Hosts, "--orleanscoord"], TimeSpan.FromMinutes(3)));
    }

    [Fact]
    public async Task Curator_recipes_pass()
    {
        // Containers emptied by a recipe must go within the scenario's bound, and TTL nodes need extended types.
        await using var silo = await SiloProcess.StartAsync("--znode.container.checkIntervalMs", "100", "--extendedTypesEnabled", "true");
        string[] jars = ["curator-recipes.jar", "curator-framework.jar", "curator-client.jar", "zookeeper.jar", "zookeeper-jute.jar", "guava.jar", "slf4j-api.jar", "slf4j-nop.jar"];
        var classPath = string.Join(':', jars.Select(jar => Path.Combine("/usr/share/java", jar)));
        AssertPassed(await ExternalCommand.RunAsync("java", ["-cp", classPath, Path.Combine(Repository.E2e, "CuratorRecipes.java"), silo.Hosts, "--ttl"], TimeSpan.FromMinutes(4)));
    }

    [Fact]
    public async Task Cli_mt_scenario_passes() =>
        AssertPassed(await ExternalCommand.RunAsync("bash", [Path.Combine(Repository.E2e, "climt_scenario.sh"), fixture.Silo.Hosts], TimeSpan.FromMinutes(3)));
}

/// <summary>kazoo's own test suite, recipes included (locks, queues, barriers, election, caches ...).</summary>
public sealed class KazooSuiteTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    [Fact]
    public async Task Kazoos_own_suite_passes()
    {
        var result = await ExternalCommand.RunAsync("bash", [Path.Combine(Repository.E2e, "kazoo_suite.sh"), fixture.Silo.Hosts], TimeSpan.FromMinutes(15));
        Assert.True(result.ExitCode == 0, result.Output[^Math.Min(result.Output.Length, 4000)..]);
        var summary = System.Text.RegularExpressions.Regex.Match(result.Output, @"(\d+) passed");
        Assert.True(summary.Success && int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 290, result.Output[^Math.Min(result.Output.Length, 2000)..]);
    }
}
