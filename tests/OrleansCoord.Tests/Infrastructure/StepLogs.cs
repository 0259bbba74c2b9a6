namespace OrleansCoord.Tests.Infrastructure;

/// <summary>The log of one scenario run against Apache ZooKeeper and against this server, compared step by step.</summary>
public static class StepLogs
{
    /// <summary>
    /// Runs a scenario against Apache ZooKeeper 3.8 (its zoo.cfg settings, or -D JVM flags) and then against a fresh
    /// silo (its arguments), each given the client port; returns both logs.
    /// </summary>
    public static async Task<(List<string> Expected, List<string> Actual)> RunBothAsync(
        string[] referenceSettings, string[] siloArgs, Func<int, Task<List<string>>> scenario)
    {
        List<string> expected;
        await using (var reference = await ReferenceZooKeeper.StartAsync(referenceSettings))
        {
            expected = await scenario(reference.Port);
        }

        await using var silo = await SiloProcess.StartAsync(siloArgs);
        return (expected, await scenario(silo.Port));
    }

    public static void AssertSame(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        for (var i = 0; i < Math.Min(expected.Count, actual.Count); i++)
        {
            Assert.True(expected[i] == actual[i], $"step {i}:\n  reference: {expected[i]}\n  candidate: {actual[i]}");
        }

        Assert.Equal(expected.Count, actual.Count);
    }
}
