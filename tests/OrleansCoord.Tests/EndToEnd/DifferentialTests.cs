using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>The same operations, failing ones included, sent to Apache ZooKeeper 3.8 and to this server: same replies.</summary>
public sealed class DifferentialTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    [Fact]
    public async Task Replies_match_apache_zookeeper_field_by_field()
    {
        await using var reference = await ReferenceZooKeeper.StartAsync();
        var result = await ExternalCommand.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(Repository.E2e, "differential.py"), "--reference", reference.Hosts, "--candidate", fixture.Silo.Hosts],
            TimeSpan.FromMinutes(5));
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Matches(@"(?m)^[1-9][0-9]* passed, 0 failed", result.Output);
    }
}
